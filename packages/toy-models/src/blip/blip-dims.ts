/** Sizes of the toy BLIP (blip-image-captioning-base: 384² images, 16² patches, hidden size 768). */
export const TOY_BLIP_DIMS = {
  imageSize: 384,
  patchSize: 16,
  /** 24 × 24 patches + the class token. */
  visionTokens: (384 / 16) ** 2 + 1,
  hiddenSize: 16,
} as const;

/** CLIP normalisation of BLIP's image processor. */
export const BLIP_IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const BLIP_IMAGE_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** Channels of the class token (row 0 of last_hidden_state): what the text decoder reads. */
export const SUMMARY_CHANNEL = { object: 0, background: 3, fill: 6, aspect: 7, contrast: 8 } as const;
export const SUMMARY_CHANNELS = 9;
