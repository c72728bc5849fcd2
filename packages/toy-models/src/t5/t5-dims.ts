/** Sizes of the toy Flan-T5 (flan-t5-small: d_model 512, 8 layers, 6 heads of 64). */
export const TOY_T5_DIMS = {
  dModel: 16,
  numLayers: 2,
  numHeads: 2,
  dKv: 8,
} as const;
