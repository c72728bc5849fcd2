import type { DDIMScheduler } from './ddim.js';
import type { DDIMInverseScheduler } from './ddim-inverse.js';

export interface StrengthSlice {
  /** The timesteps actually run, in the order they are run. */
  timesteps: readonly number[];
  /** Their count: min(int(N·strength), N) (what diffusers returns as the second value). */
  numInferenceSteps: number;
  /** Index into the full schedule where the slice starts (forward) / how many are cut off (inverse). */
  tStart: number;
}

/**
 * The pipeline's strength arithmetic: k = min(int(N·strength), N) with Python's int() truncation of the float64
 * product (trunc(0.29·100) = 28), t_start = max(N − k, 0).
 */
export function strengthToSteps(
  numInferenceSteps: number,
  strength: number,
  where = 'strength',
): {
  k: number;
  tStart: number;
} {
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
    throw new RangeError(
      `${where}: num_inference_steps must be a positive integer, got ${numInferenceSteps}`,
    );
  }
  if (typeof strength !== 'number' || !(strength >= 0 && strength <= 1)) {
    throw new RangeError(`${where}: strength must be in [0, 1], got ${strength}`);
  }
  const k = Math.min(Math.trunc(numInferenceSteps * strength), numInferenceSteps);
  return { k, tStart: Math.max(numInferenceSteps - k, 0) };
}

function requireNonEmpty(k: number, n: number, strength: number, where: string): void {
  if (k === 0) {
    throw new RangeError(
      `${where}: strength ${strength} with ${n} steps leaves int(${n}·${strength}) = 0 steps to run ` +
        `(diffusers fails later on the empty timestep list); raise the strength or the number of steps`,
    );
  }
}

function checkTable(ts: readonly number[], T: number, where: string): void {
  const bad = ts.find((t) => t < 0 || t >= T);
  if (bad !== undefined) {
    throw new RangeError(
      `${where}: timestep ${bad} is outside alphas_cumprod [0, ${T - 1}] (e.g. N = ${T} with steps_offset 1); ` +
        `diffusers fails with an IndexError`,
    );
  }
}

/**
 * StableDiffusionDiffEditPipeline.get_timesteps: the forward (denoising) timesteps for a strength, i.e.
 * scheduler.timesteps[t_start:]. Call scheduler.setTimesteps(N) first.
 */
export function getTimesteps(scheduler: DDIMScheduler, strength: number): StrengthSlice {
  const where = 'getTimesteps';
  const n = scheduler.numInferenceSteps;
  if (n === null) throw new Error(`${where}: call scheduler.setTimesteps(numInferenceSteps) first`);
  const { k, tStart } = strengthToSteps(n, strength, where);
  requireNonEmpty(k, n, strength, where);
  const timesteps = scheduler.timesteps.slice(tStart * scheduler.order);
  checkTable(timesteps, scheduler.numTrainTimesteps, where);
  return { timesteps, numInferenceSteps: n - tStart, tStart };
}

/**
 * StableDiffusionDiffEditPipeline.get_inverse_timesteps: the inversion timesteps for a strength, i.e.
 * inverse.timesteps[: N − t_start] (all of them when t_start = 0). Call inverse.setTimesteps(N) first.
 */
export function getInverseTimesteps(inverse: DDIMInverseScheduler, strength: number): StrengthSlice {
  const where = 'getInverseTimesteps';
  const n = inverse.numInferenceSteps;
  if (n === null) throw new Error(`${where}: call inverseScheduler.setTimesteps(numInferenceSteps) first`);
  const { k, tStart } = strengthToSteps(n, strength, where);
  requireNonEmpty(k, n, strength, where);
  const all = inverse.timesteps;
  const timesteps = tStart === 0 ? all.slice() : all.slice(0, all.length - tStart);
  checkTable(timesteps, inverse.numTrainTimesteps, where);
  return { timesteps, numInferenceSteps: n - tStart, tStart };
}

/** generate_mask's encode timestep: get_timesteps(N, mask_encode_strength)[0][0]. */
export function maskEncodeTimestep(scheduler: DDIMScheduler, maskEncodeStrength: number): number {
  return getTimesteps(scheduler, maskEncodeStrength).timesteps[0];
}
