import { Tensor, assertSameDims } from '../tensor/tensor.js';
import { batchRange, concatBatch } from '../tensor/views.js';

/**
 * Classifier-free guidance as in diffusers: the UNet batch is [negative (unconditional); positive], and the
 * guided output is out_u + g·(out_c − out_u). Returns the two halves as views (no copy).
 */
export function splitGuidanceBatch(output: Tensor): { uncond: Tensor; cond: Tensor } {
  const n = output.rank === 0 ? 0 : output.dims[0];
  if (n === 0 || n % 2 !== 0) {
    throw new RangeError(
      `classifier-free guidance: the UNet output ${output} must have an even, non-zero batch`,
    );
  }
  return { uncond: batchRange(output, 0, n / 2), cond: batchRange(output, n / 2, n) };
}

/** out = uncond + g·(cond − uncond) for an output batch [negative; positive] (evaluated in that form). */
export function classifierFreeGuidance(output: Tensor, guidanceScale: number, out?: Tensor): Tensor {
  const { uncond, cond } = splitGuidanceBatch(output);
  return guide(uncond, cond, guidanceScale, out);
}

/** out = uncond + g·(cond − uncond) for two separate tensors of the same shape. */
export function guide(uncond: Tensor, cond: Tensor, guidanceScale: number, out?: Tensor): Tensor {
  if (!Number.isFinite(guidanceScale))
    throw new RangeError(`guidance scale must be finite, got ${guidanceScale}`);
  assertSameDims(uncond, cond, 'classifier-free guidance');
  const result = out ?? new Tensor(uncond.dims);
  assertSameDims(result, uncond, 'classifier-free guidance (out)');
  const u = uncond.data;
  const c = cond.data;
  const d = result.data;
  for (let i = 0; i < d.length; i++) d[i] = u[i] + guidanceScale * (c[i] - u[i]);
  return result;
}

/** Whether diffusers would run classifier-free guidance at this scale (g > 1). */
export function usesClassifierFreeGuidance(guidanceScale: number): boolean {
  return guidanceScale > 1;
}

/** The UNet latent input for CFG: [x; x] (into `out` when given, e.g. a buffer reused every step). */
export function duplicateForGuidance(latents: Tensor, out?: Tensor): Tensor {
  return concatBatch([latents, latents], out);
}

/** The text-embedding batch for CFG in diffusers' order: [negative; positive]. */
export function guidanceEmbeddings(negative: Tensor, positive: Tensor): Tensor {
  return concatBatch([negative, positive]);
}
