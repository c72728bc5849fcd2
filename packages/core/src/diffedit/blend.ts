import type { DDIMScheduler } from '../schedulers/ddim.js';
import { guidedEpsilonStep } from '../schedulers/step-math.js';
import type { EpsilonStepCoefficients } from '../schedulers/step-math.js';
import { getTimesteps } from '../schedulers/strength.js';
import { maskedBlend } from '../tensor/ops.js';
import { Tensor, sameDims } from '../tensor/tensor.js';
import { stack, transpose } from '../tensor/views.js';

/** One step of the masked DDIM decoding (__call__), with diffusers' index/level semantics (pitfall P6). */
export interface MaskedDenoiseStep {
  /** Loop index i. */
  index: number;
  /** Timestep t at which the UNet runs and DDIM steps from (level t → t − ratio). */
  timestep: number;
  /** Level the DDIM step lands on: t − T div N (negative on the last step: "clean"). */
  resultLevel: number;
  /** Index into the stored inverted latents (noisiest first) used for the background: i. */
  latentIndex: number;
  /**
   * Noise level of that stored latent: t, i.e. ONE STEP NOISIER than resultLevel (diffusers' off-by-one: the
   * final background is the level-1 inverted latent, not the clean VAE latent).
   */
  latentLevel: number;
}

/**
 * The schedule of __call__ for a strength: get_timesteps(N, strength) with, per step, which inverted latent
 * replaces the background. Throws when the number of stored inverted latents differs (pitfall P1: invert and
 * __call__ must use the same steps and strength).
 */
export function maskedDenoisePlan(
  scheduler: DDIMScheduler,
  strength: number,
  numStoredLatents?: number,
): MaskedDenoiseStep[] {
  const { timesteps } = getTimesteps(scheduler, strength);
  if (numStoredLatents !== undefined && numStoredLatents !== timesteps.length) {
    throw new RangeError(
      `masked denoise: ${numStoredLatents} inverted latents were given but strength ${strength} with ` +
        `${scheduler.numInferenceSteps} steps runs ${timesteps.length} steps; invert and the edit must use the ` +
        `same num_inference_steps and inpaint_strength`,
    );
  }
  const ratio = scheduler.stepRatio;
  return timesteps.map((t, i) => ({
    index: i,
    timestep: t,
    resultLevel: t - ratio,
    latentIndex: i,
    latentLevel: t,
  }));
}

/**
 * The background blend after each DDIM step: out = x·mask + inverted·(1 − mask) with mask 1 = repaint.
 * `mask` broadcasts over channels ((B,1,h,w), (1,1,h,w) or (h,w)); `out` may be `x` (in place).
 */
export function diffEditBlend(x: Tensor, mask: Tensor, invertedLatent: Tensor, out?: Tensor): Tensor {
  const planes = channelPlanes(x, mask);
  if (
    planes === undefined ||
    !sameDims(invertedLatent.dims, x.dims) ||
    (out !== undefined && !sameDims(out.dims, x.dims))
  ) {
    return maskedBlend(x, mask, invertedLatent, out);
  }
  // the loops' case, a (B | 1, 1, h, w) mask over (B, C, h, w) latents: plane by plane, with maskedBlend's
  // arithmetic (its general odometer walk costs more than the blend itself)
  const result = out ?? new Tensor(x.dims);
  const [B, C] = x.dims;
  const plane = planes.plane;
  const f = x.data;
  const g = invertedLatent.data;
  const m = mask.data;
  const d = result.data;
  for (let b = 0; b < B; b++) {
    const mBase = planes.perBatch ? b * plane : 0;
    for (let c = 0; c < C; c++) {
      const base = (b * C + c) * plane;
      for (let k = 0; k < plane; k++) {
        const w = m[mBase + k];
        d[base + k] = f[base + k] * w + g[base + k] * (1 - w);
      }
    }
  }
  return result;
}

/**
 * The denoising loop's step: guidedEpsilonStep from `x` into `out` (which may be `x`) and x̂0, then
 * diffEditBlend(out, mask, invertedLatent, out). The kernel blends before it copies back where it can (one
 * latent, a (1, 1, h, w) mask), with the same bits as the two functions, which run otherwise.
 */
export function guidedEpsilonStepBlend(
  u: Float32Array,
  c: Float32Array,
  g: number,
  x: Float32Array,
  out: Tensor,
  x0: Float32Array,
  coefficients: EpsilonStepCoefficients,
  mask: Tensor,
  invertedLatent: Tensor,
): void {
  const { sa, sb, c1, c2, clipRange } = coefficients;
  const planes = out.dims[0] === 1 && mask.dims[0] === 1 ? channelPlanes(out, mask) : undefined;
  const blend =
    planes !== undefined && sameDims(invertedLatent.dims, out.dims)
      ? { mask: mask.data, background: invertedLatent.data }
      : undefined;
  if (!guidedEpsilonStep(u, c, g, x, out.data, x0, sa, sb, c1, c2, clipRange, blend)) {
    diffEditBlend(out, mask, invertedLatent, out);
  }
}

/** For x (B, C, h, w) and a mask (B, 1, h, w) or (1, 1, h, w): the plane size and whether the mask has rows per batch. */
function channelPlanes(x: Tensor, mask: Tensor): { plane: number; perBatch: boolean } | undefined {
  if (x.rank !== 4 || mask.rank !== 4 || mask.dims[1] !== 1) return undefined;
  const [B, , h, w] = x.dims;
  if (mask.dims[2] !== h || mask.dims[3] !== w || (mask.dims[0] !== 1 && mask.dims[0] !== B))
    return undefined;
  return { plane: h * w, perBatch: mask.dims[0] === B && B > 1 };
}

/**
 * invert's output layout: the latents after each inversion step (in the order they were produced, least noisy
 * first) → (B, S, C, h, w) with index 0 the NOISIEST (diffusers: stack(reversed(store), dim=1)).
 */
export function stackInvertedLatents(perStep: readonly Tensor[]): Tensor {
  if (perStep.length === 0) throw new RangeError('stackInvertedLatents: no inversion steps were recorded');
  const s = stack([...perStep].reverse()); // (S, B, C, h, w)
  return transpose(s, [1, 0, ...s.dims.slice(2).map((_, i) => i + 2)]);
}

/**
 * (B, S, C, h, w) inverted latents → (S, B, C, h, w) so that `batchView(result, i)` is the (1, B, C, h, w)
 * background for step i without a copy (what __call__ does with its transpose). A 4-D (B·S, C, h, w) input is
 * first viewed as (B, S, C, h, w) like diffusers.
 */
export function invertedLatentsStepMajor(latents: Tensor, batchSize: number): Tensor {
  let l = latents;
  if (l.rank === 4) {
    if (l.dims[0] % batchSize !== 0) {
      throw new RangeError(`inverted latents ${l} cannot be viewed as batch ${batchSize} × steps`);
    }
    l = l.reshape([batchSize, l.dims[0] / batchSize, ...l.dims.slice(1)]);
  }
  if (l.rank !== 5 || l.dims[0] !== batchSize) {
    throw new RangeError(`inverted latents must be (B=${batchSize}, S, C, h, w), got ${latents}`);
  }
  return batchSize === 1 ? l.reshape([l.dims[1], 1, ...l.dims.slice(2)]) : transpose(l, [1, 0, 2, 3, 4]);
}
