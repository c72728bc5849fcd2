import type { DDIMScheduler, DDIMSchedulerBase } from './ddim.js';
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

/**
 * The part of `scheduler`'s timesteps that a strength runs: `cut(timesteps, t_start)`, after checking that it
 * is not empty and stays inside the ᾱ table (diffusers fails later, or with an IndexError).
 */
function strengthSlice(
  scheduler: DDIMSchedulerBase,
  strength: number,
  where: string,
  schedulerName: string,
  cut: (all: readonly number[], tStart: number) => readonly number[],
): StrengthSlice {
  const n = scheduler.numInferenceSteps;
  if (n === null) throw new Error(`${where}: call ${schedulerName}.setTimesteps(numInferenceSteps) first`);
  const { k, tStart } = strengthToSteps(n, strength, where);
  if (k === 0) {
    throw new RangeError(
      `${where}: strength ${strength} with ${n} steps leaves int(${n}·${strength}) = 0 steps to run ` +
        `(diffusers fails later on the empty timestep list); raise the strength or the number of steps`,
    );
  }
  const timesteps = cut(scheduler.timesteps, tStart);
  const T = scheduler.numTrainTimesteps;
  const bad = timesteps.find((t) => t < 0 || t >= T);
  if (bad !== undefined) {
    throw new RangeError(
      `${where}: timestep ${bad} is outside alphas_cumprod [0, ${T - 1}] (e.g. N = ${T} with steps_offset 1); ` +
        `diffusers fails with an IndexError`,
    );
  }
  return { timesteps, numInferenceSteps: n - tStart, tStart };
}

/**
 * StableDiffusionDiffEditPipeline.get_timesteps: the forward (denoising) timesteps for a strength, i.e.
 * scheduler.timesteps[t_start:]. Call scheduler.setTimesteps(N) first.
 */
export function getTimesteps(scheduler: DDIMScheduler, strength: number): StrengthSlice {
  return strengthSlice(scheduler, strength, 'getTimesteps', 'scheduler', (all, tStart) =>
    all.slice(tStart * scheduler.order),
  );
}

/**
 * StableDiffusionDiffEditPipeline.get_inverse_timesteps: the inversion timesteps for a strength, i.e.
 * inverse.timesteps[: N − t_start] (all of them when t_start = 0). Call inverse.setTimesteps(N) first.
 */
export function getInverseTimesteps(inverse: DDIMInverseScheduler, strength: number): StrengthSlice {
  return strengthSlice(inverse, strength, 'getInverseTimesteps', 'inverseScheduler', (all, tStart) =>
    all.slice(0, all.length - tStart),
  );
}

/** generate_mask's encode timestep: get_timesteps(N, mask_encode_strength)[0][0]. */
export function maskEncodeTimestep(scheduler: DDIMScheduler, maskEncodeStrength: number): number {
  return getTimesteps(scheduler, maskEncodeStrength).timesteps[0];
}
