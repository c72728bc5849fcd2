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

/**
 * Repeats each HWC pixel of `small` (width × height) `upscale` times across and down, into `out`: each output
 * row is written once from its source row, then copied for the rows that repeat it.
 */
function upscaleNearest<T extends Float32Array | Uint8Array>(
  small: T,
  width: number,
  height: number,
  upscale: number,
  out: T,
): T {
  const rowLength = width * upscale * 3;
  let dst = 0;
  for (let y = 0; y < height; y++) {
    const rowStart = dst;
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * 3;
      const r = small[src];
      const g = small[src + 1];
      const b = small[src + 2];
      for (let s = 0; s < upscale; s++) {
        out[dst++] = r;
        out[dst++] = g;
        out[dst++] = b;
      }
    }
    for (let s = 1; s < upscale; s++) {
      out.copyWithin(dst, rowStart, rowStart + rowLength);
      dst += rowLength;
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
