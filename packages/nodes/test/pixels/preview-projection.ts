/** A latent → RGB preview projection with mixed signs and a bias, for the preview tests. */
export const TEST_PROJECTION = {
  weights: [
    [0.3, -0.2, 0.1],
    [0.05, 0.4, -0.3],
    [-0.25, 0.1, 0.6],
    [0.2, 0.2, 0.2],
  ] as const,
  bias: [0.1, -0.05, 0.2] as const,
};
