import { clamp01, createRgbImage, type RgbImage, toUint8 } from './rgb-image.js';

/**
 * A linear map from latent channels to signed RGB ([-1, 1]): rgb = Σ_c z_c·weights[c] + bias.
 * A cheap stand-in for the VAE decoder, good enough for progress previews.
 */
export interface LatentPreviewProjection {
  /** one [r, g, b] row per latent channel */
  readonly weights: readonly (readonly [number, number, number])[];
  readonly bias: readonly [number, number, number];
}

/** The projection at the latent's size: HWC float32 in [0, 1] (each value rounded to float32 once). */
function projectLatent(
  latent: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
  projection: LatentPreviewProjection,
): Float32Array {
  const plane = height * width;
  if (latent.length < channels * plane) {
    throw new Error(`latent has ${latent.length} values, expected ${channels}×${height}×${width}`);
  }
  const used = Math.min(channels, projection.weights.length);
  // the weights as one flat array (channel-major, rgb inside): the sums below add the same products in the
  // same order as reading projection.weights[c][k], without two property loads per product
  const weights = new Float64Array(used * 3);
  for (let c = 0; c < used; c++) for (let k = 0; k < 3; k++) weights[c * 3 + k] = projection.weights[c][k];
  const [b0, b1, b2] = projection.bias;
  const small = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    let r = b0;
    let g = b1;
    let b = b2;
    for (let c = 0; c < used; c++) {
      const z = latent[c * plane + p];
      r += z * weights[c * 3];
      g += z * weights[c * 3 + 1];
      b += z * weights[c * 3 + 2];
    }
    small[p * 3] = clamp01(r / 2 + 0.5);
    small[p * 3 + 1] = clamp01(g / 2 + 0.5);
    small[p * 3 + 2] = clamp01(b / 2 + 0.5);
  }
  return small;
}

/** Projects one latent (planar CHW, `channels`×h×w) to an RGB image of the latent's size. */
export function latentToPreviewRgb(
  latent: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
  projection: LatentPreviewProjection,
): RgbImage {
  return createRgbImage(width, height, projectLatent(latent, channels, height, width, projection));
}

/** latentToPreviewRgb's image as 8-bit RGB (HWC; toUint8 of its values, the same bytes). */
export function latentToPreviewBytes(
  latent: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
  projection: LatentPreviewProjection,
): { width: number; height: number; rgb: Uint8Array } {
  return { width, height, rgb: toUint8(projectLatent(latent, channels, height, width, projection)) };
}
