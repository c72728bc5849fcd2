import { clamp01, createRgbImage, type RgbImage } from './rgb-image.js';

/**
 * A linear map from latent channels to signed RGB ([-1, 1]): rgb = Σ_c z_c·weights[c] + bias.
 * A cheap stand-in for the VAE decoder, good enough for progress previews.
 */
export interface LatentPreviewProjection {
  /** one [r, g, b] row per latent channel */
  readonly weights: readonly (readonly [number, number, number])[];
  readonly bias: readonly [number, number, number];
}

/**
 * Projects one latent (planar CHW, `channels`×h×w) to an RGB image of the latent's size, optionally
 * upscaled by an integer factor (nearest) so the preview is visible.
 */
export function latentToPreviewRgb(
  latent: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
  projection: LatentPreviewProjection,
  upscale = 1,
): RgbImage {
  const plane = height * width;
  if (latent.length < channels * plane) {
    throw new Error(`latent has ${latent.length} values, expected ${channels}×${height}×${width}`);
  }
  const used = Math.min(channels, projection.weights.length);
  const small = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < 3; k++) {
      let v = projection.bias[k];
      for (let c = 0; c < used; c++) v += latent[c * plane + p] * projection.weights[c][k];
      small[p * 3 + k] = clamp01(v / 2 + 0.5);
    }
  }
  if (upscale === 1) return createRgbImage(width, height, small);
  const out = createRgbImage(width * upscale, height * upscale);
  const data = out.data;
  let dst = 0;
  for (let y = 0; y < height * upscale; y++) {
    const row = Math.floor(y / upscale) * width;
    for (let x = 0; x < width * upscale; x++) {
      const src = (row + Math.floor(x / upscale)) * 3;
      data[dst++] = small[src];
      data[dst++] = small[src + 1];
      data[dst++] = small[src + 2];
    }
  }
  return out;
}
