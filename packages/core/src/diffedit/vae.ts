import type { SeededRng } from '../random/seeded-rng.js';
import { resizeArea, resizeBilinear, resizeNearest } from '../tensor/resize.js';
import { Tensor, assertSameDims } from '../tensor/tensor.js';
import { displayBytesOf } from '../tensor/display-bytes.js';
import { tileBatch } from '../tensor/views.js';
import { wasmDecodedToImage } from '../wasm/image-kernels.js';

/** Stable Diffusion's VAE latent scaling factor (SD 1.x and 2.x). */
export const SD_VAE_SCALING_FACTOR = 0.18215;

function splitMoments(latentParameters: Tensor, where: string): { B: number; C: number; plane: number } {
  if (latentParameters.rank !== 4 || latentParameters.dims[1] % 2 !== 0) {
    throw new RangeError(
      `${where}: latent_parameters must be (B, 2C, h, w) (mean ‖ logvar), got ${latentParameters}`,
    );
  }
  const [B, C2, h, w] = latentParameters.dims;
  return { B, C: C2 / 2, plane: h * w };
}

/**
 * A VAE posterior sample as diffusers' DiagonalGaussianDistribution.sample()·scaling_factor: parameters are
 * mean ‖ logvar along channels; logvar is clamped to [−30, 20], std = exp(0.5·logvar), and the latent is
 * (mean + std·noise)·scalingFactor. `noise` is a (B, C, h, w) standard normal tensor or a generator.
 */
export function sampleVaePosterior(
  latentParameters: Tensor,
  noise: Tensor | SeededRng,
  scalingFactor = SD_VAE_SCALING_FACTOR,
  out?: Tensor,
): Tensor {
  const where = 'sampleVaePosterior';
  const { B, C, plane } = splitMoments(latentParameters, where);
  const dims = [B, C, latentParameters.dims[2], latentParameters.dims[3]];
  const result = out ?? new Tensor(dims);
  assertSameDims(result, { dims }, `${where} (out)`);
  if (noise instanceof Tensor) assertSameDims(noise, { dims }, `${where} (noise)`);
  // a generator's draws go sample by sample in the order normal() would give them, kept in float64
  const drawn = noise instanceof Tensor ? undefined : new Float64Array(C * plane);
  const p = latentParameters.data;
  for (let b = 0; b < B; b++) {
    if (drawn !== undefined) (noise as SeededRng).fillNormal(drawn);
    const z = drawn ?? (noise as Tensor).data.subarray(b * C * plane, (b + 1) * C * plane);
    for (let c = 0; c < C; c++) {
      const meanBase = (b * 2 * C + c) * plane;
      const logvarBase = (b * 2 * C + C + c) * plane;
      const outBase = (b * C + c) * plane;
      for (let k = 0; k < plane; k++) {
        const logvar = Math.min(Math.max(p[logvarBase + k], -30), 20);
        const std = Math.exp(0.5 * logvar);
        result.data[outBase + k] = (p[meanBase + k] + std * z[c * plane + k]) * scalingFactor;
      }
    }
  }
  return result;
}

/**
 * `count` posterior samples of one encoding into the rows of `out` [count, C, h, w]: what sampleVaePosterior
 * gives called once per row on mean ‖ logvar (the same draws from `rng`, in the same order, and the same
 * arithmetic), with std = exp(0.5·clamp(logvar)) computed once for all rows instead of once per row and value.
 */
export function sampleVaePosteriorDraws(
  mean: Tensor,
  logvar: Tensor,
  rng: SeededRng,
  scalingFactor: number,
  out: Tensor,
): Tensor {
  const where = 'sampleVaePosteriorDraws';
  if (mean.rank !== 4 || mean.dims[0] !== 1)
    throw new RangeError(`${where}: mean must be (1, C, h, w), got ${mean}`);
  assertSameDims(logvar, mean, `${where} (logvar)`);
  const [, C, h, w] = mean.dims;
  if (out.rank !== 4 || out.dims[1] !== C || out.dims[2] !== h || out.dims[3] !== w) {
    throw new RangeError(`${where}: out must be (count, ${C}, ${h}, ${w}), got ${out}`);
  }
  const size = mean.size;
  const m = mean.data;
  const lv = logvar.data;
  const std = new Float64Array(size);
  for (let k = 0; k < size; k++) std[k] = Math.exp(0.5 * Math.min(Math.max(lv[k], -30), 20));
  const drawn = new Float64Array(size);
  const d = out.data;
  for (let row = 0; row < out.dims[0]; row++) {
    rng.fillNormal(drawn);
    const base = row * size;
    for (let k = 0; k < size; k++) d[base + k] = (m[k] + std[k] * drawn[k]) * scalingFactor;
  }
  return out;
}

/** The posterior mean·scalingFactor (deterministic latents; diffusers' DiffEdit samples instead). */
export function vaePosteriorMean(latentParameters: Tensor, scalingFactor = SD_VAE_SCALING_FACTOR): Tensor {
  const { B, C, plane } = splitMoments(latentParameters, 'vaePosteriorMean');
  const out = new Tensor([B, C, latentParameters.dims[2], latentParameters.dims[3]]);
  for (let b = 0; b < B; b++) {
    const src = latentParameters.data.subarray(b * 2 * C * plane, (b * 2 * C + C) * plane);
    const dst = out.data.subarray(b * C * plane, (b + 1) * C * plane);
    for (let k = 0; k < dst.length; k++) dst[k] = src[k] * scalingFactor;
  }
  return out;
}

/** latents / scalingFactor: what the VAE decoder takes. */
export function unscaleLatents(latents: Tensor, scalingFactor = SD_VAE_SCALING_FACTOR, out?: Tensor): Tensor {
  const result = out ?? new Tensor(latents.dims);
  assertSameDims(result, latents, 'unscaleLatents (out)');
  const src = latents.data;
  const dst = result.data;
  for (let i = 0; i < dst.length; i++) dst[i] = src[i] / scalingFactor;
  return result;
}

/** float32(float32(k / 255) · 2 − 1): what imageToModelRange gives for the 8-bit level k. */
const MODEL_RANGE_OF_LEVEL = Float32Array.from({ length: 256 }, (_, k) => Math.fround(k / 255) * 2 - 1);

/**
 * Image values in [0, 1] → model range [−1, 1] (VaeImageProcessor.normalize: 2x − 1); an image made of 8-bit
 * levels is converted from its bytes (the same values, looked up), without reading its floats.
 */
export function imageToModelRange(image: Tensor, out?: Tensor): Tensor {
  const result = out ?? new Tensor(image.dims);
  assertSameDims(result, image, 'imageToModelRange (out)');
  const dst = result.data;
  const levels = image.byteLevels;
  if (levels !== undefined) {
    for (let i = 0; i < dst.length; i++) dst[i] = MODEL_RANGE_OF_LEVEL[levels[i]];
    return result;
  }
  const src = image.data;
  for (let i = 0; i < dst.length; i++) dst[i] = src[i] * 2 - 1;
  return result;
}

/** VAE output in [−1, 1] → image values clamp(x/2 + 0.5, 0, 1) (VaeImageProcessor.denormalize). */
export function modelRangeToImage(decoded: Tensor, out?: Tensor): Tensor {
  const result = out ?? new Tensor(decoded.dims);
  assertSameDims(result, decoded, 'modelRangeToImage (out)');
  toImageRange(decoded.data, result.data, 0);
  return result;
}

function toImageRange(src: Float32Array, dst: Float32Array, from: number): void {
  for (let i = from; i < dst.length; i++) {
    const v = src[i] / 2 + 0.5;
    dst[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}

/**
 * modelRangeToImage (into `out`, which may be `decoded`) with the image's display bytes (displayBytesOf; none
 * when the image holds a NaN): one WebAssembly pass where the engine has it, the same bits as the two loops.
 */
export function decodedToImage(decoded: Tensor, out?: Tensor): { image: Tensor; display?: Uint8Array } {
  const image = out ?? new Tensor(decoded.dims);
  assertSameDims(image, decoded, 'decodedToImage (out)');
  const bytes = new Uint8Array(image.size);
  const done = wasmDecodedToImage(decoded.data, image.data, bytes);
  if (done === image.size) return { image, display: bytes };
  // the JavaScript from where the kernel stopped (no kernel, or a NaN ahead)
  toImageRange(decoded.data, image.data, done);
  const display = displayBytesOf(image.data);
  return display === undefined ? { image } : { image, display };
}

/** preprocess_mask's binarisation: v < 0.5 → 0, v ≥ 0.5 → 1. */
export function binariseMask(mask: Tensor, out?: Tensor): Tensor {
  const result = out ?? new Tensor(mask.dims);
  assertSameDims(result, mask, 'binariseMask (out)');
  for (let i = 0; i < result.size; i++) result.data[i] = mask.data[i] < 0.5 ? 0 : 1;
  return result;
}

/** A mask of dims (h, w), (B, h, w) or (B, 1, h, w) viewed as (B, 1, h, w) (no copy). */
export function maskAsNchw(mask: Tensor, where = 'mask'): Tensor {
  if (mask.rank === 2) return mask.reshape([1, 1, ...mask.dims]);
  if (mask.rank === 3) return mask.reshape([mask.dims[0], 1, mask.dims[1], mask.dims[2]]);
  if (mask.rank === 4 && mask.dims[1] === 1) return mask;
  throw new RangeError(`${where}: expected (h, w), (B, h, w) or (B, 1, h, w) with one channel, got ${mask}`);
}

export type MaskResizeMode = 'area' | 'nearest' | 'bilinear';

/**
 * Resizes a mask to latent resolution (e.g. H/8 × W/8) and binarises it (v < 0.5 → 0). diffusers never
 * resizes masks (pitfall P2); this is for masks drawn at image resolution. 'area' (default) averages each
 * block, so a latent pixel is repainted when at least half its image pixels are.
 */
export function resizeMaskToLatent(
  mask: Tensor,
  height: number,
  width: number,
  mode: MaskResizeMode = 'area',
): Tensor {
  const m = maskAsNchw(mask, 'resizeMaskToLatent');
  const resized =
    mode === 'area'
      ? resizeArea(m, height, width)
      : mode === 'nearest'
        ? resizeNearest(m, height, width)
        : resizeBilinear(m, height, width);
  return binariseMask(resized, resized);
}

/**
 * __call__'s preprocess_mask: (h, w) / (B, h, w) / (B, 1, h, w) → (B, 1, h, w) binarised, a single mask
 * broadcast to the batch; values must lie in [0, 1] and the size must be the latent size (no resizing).
 * With numImagesPerPrompt m > 1 the result is then TILED m times ([m0, m1, m0, m1]) exactly like diffusers,
 * although its latents are interleaved ([0, 0, 1, 1]): with B > 1 and m > 1 masks and images misalign (P8).
 */
export function preprocessMask(
  mask: Tensor,
  batchSize: number,
  latentHeight: number,
  latentWidth: number,
  numImagesPerPrompt = 1,
): Tensor {
  const where = 'preprocessMask';
  const m = maskAsNchw(mask, where);
  if (m.dims[2] !== latentHeight || m.dims[3] !== latentWidth) {
    throw new RangeError(
      `${where}: mask is ${m.dims[2]}×${m.dims[3]} but the latents are ${latentHeight}×${latentWidth}; masks are ` +
        `not resized (pitfall P2): use resizeMaskToLatent first`,
    );
  }
  for (let i = 0; i < m.size; i++) {
    const v = m.data[i];
    if (!(v >= 0 && v <= 1))
      throw new RangeError(`${where}: mask values must be in [0, 1], found ${v} at ${i}`);
  }
  let batched = m;
  if (m.dims[0] !== batchSize) {
    if (m.dims[0] !== 1)
      throw new RangeError(`${where}: mask batch ${m.dims[0]} does not match batch ${batchSize}`);
    batched = new Tensor([batchSize, 1, latentHeight, latentWidth]);
    for (let b = 0; b < batchSize; b++) batched.data.set(m.data, b * m.size);
  }
  if (!Number.isInteger(numImagesPerPrompt) || numImagesPerPrompt < 1) {
    throw new RangeError(
      `${where}: num_images_per_prompt must be a positive integer, got ${numImagesPerPrompt}`,
    );
  }
  const binary = binariseMask(batched);
  return numImagesPerPrompt === 1 ? binary : tileBatch(binary, numImagesPerPrompt);
}
