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

/** The toy pack's projection: latent channels 0–2 are R, G and B (as VAEEncode fits it on toy latents). */
export const TOY_PROJECTION = {
  weights: [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
    [0, 0, 0],
  ] as const,
  bias: [0, 0, 0] as const,
};
