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
  const small = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < 3; k++) {
      let v = projection.bias[k];
      for (let c = 0; c < used; c++) v += latent[c * plane + p] * projection.weights[c][k];
      small[p * 3 + k] = clamp01(v / 2 + 0.5);
    }
  }
  return small;
}

/** Repeats each HWC pixel of `small` (width × height) `upscale` times across and down, into `out`. */
function upscaleNearest<T extends Float32Array | Uint8Array>(
  small: T,
  width: number,
  height: number,
  upscale: number,
  out: T,
): T {
  let dst = 0;
  for (let y = 0; y < height * upscale; y++) {
    const row = Math.floor(y / upscale) * width;
    for (let x = 0; x < width * upscale; x++) {
      const src = (row + Math.floor(x / upscale)) * 3;
      out[dst++] = small[src];
      out[dst++] = small[src + 1];
      out[dst++] = small[src + 2];
    }
  }
  return out;
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
  const small = projectLatent(latent, channels, height, width, projection);
  if (upscale === 1) return createRgbImage(width, height, small);
  const out = createRgbImage(width * upscale, height * upscale);
  upscaleNearest(small, width, height, upscale, out.data);
  return out;
}

/**
 * latentToPreviewRgb's image as 8-bit RGB (HWC; toUint8 of its values, the same bytes): rounded at the
 * latent's size, then upscaled, so the rounding runs on upscale² times fewer values.
 */
export function latentToPreviewBytes(
  latent: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
  projection: LatentPreviewProjection,
  upscale = 1,
): { width: number; height: number; rgb: Uint8Array } {
  const small = toUint8(projectLatent(latent, channels, height, width, projection));
  const size = { width: width * upscale, height: height * upscale };
  if (upscale === 1) return { ...size, rgb: small };
  const out = new Uint8Array(size.width * size.height * 3);
  return { ...size, rgb: upscaleNearest(small, width, height, upscale, out) };
}
