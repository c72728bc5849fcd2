import type { ResolvedSchedulerConfig } from './config.js';

/** numpy's round(): half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * numpy.arange(start, stop, step) for doubles: length ceil((stop − start)/step), values start + i·delta with
 * delta = (start + step) − start (numpy fills from its first two elements). Reproducing this matters:
 * arange(1000, 0, −1000/N) has N + 1 elements for some N (e.g. 61).
 */
export function numpyArange(start: number, stop: number, step: number): number[] {
  const len = Math.max(Math.ceil((stop - start) / step), 0);
  const delta = start + step - start;
  const out: number[] = [];
  for (let i = 0; i < len; i++) out.push(start + i * delta);
  return out;
}

/** numpy.linspace(start, stop, num) (endpoint included). */
export function numpyLinspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  out[num - 1] = stop;
  return out;
}

export function checkNumInferenceSteps(n: number, cfg: ResolvedSchedulerConfig, where: string): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`${where}: num_inference_steps must be a positive integer, got ${n}`);
  }
  if (n > cfg.num_train_timesteps) {
    throw new RangeError(
      `${where}: num_inference_steps (${n}) cannot be larger than num_train_timesteps (${cfg.num_train_timesteps})`,
    );
  }
}

function checkNonNegative(ts: readonly number[], n: number, where: string): void {
  if (ts.some((t) => t < 0)) {
    throw new RangeError(
      `${where}: 'trailing' spacing with ${n} steps gives a negative timestep (numpy arange rounding makes ` +
        `${ts.length} steps; diffusers would silently index alphas_cumprod[-1]); choose another number of steps`,
    );
  }
}

/** DDIMScheduler.set_timesteps: the descending timestep list for N steps. */
export function ddimTimesteps(cfg: ResolvedSchedulerConfig, n: number): number[] {
  const T = cfg.num_train_timesteps;
  switch (cfg.timestep_spacing) {
    case 'linspace':
      return numpyLinspace(0, T - 1, n)
        .map(roundHalfEven)
        .reverse();
    case 'leading': {
      const ratio = Math.floor(T / n);
      const ts: number[] = [];
      for (let i = n - 1; i >= 0; i--) ts.push(i * ratio + cfg.steps_offset);
      return ts;
    }
    case 'trailing': {
      const ts = numpyArange(T, 0, -T / n).map((v) => roundHalfEven(v) - 1);
      checkNonNegative(ts, n, 'DDIMScheduler.setTimesteps');
      return ts;
    }
  }
}

/** DDIMInverseScheduler.set_timesteps: the ascending timestep list ('leading' or 'trailing' only). */
export function ddimInverseTimesteps(cfg: ResolvedSchedulerConfig, n: number): number[] {
  const T = cfg.num_train_timesteps;
  switch (cfg.timestep_spacing) {
    case 'leading': {
      const ratio = Math.floor(T / n);
      const ts: number[] = [];
      for (let i = 0; i < n; i++) ts.push(i * ratio + cfg.steps_offset);
      return ts;
    }
    case 'trailing': {
      const ts = numpyArange(T, 0, -T / n)
        .reverse()
        .map((v) => roundHalfEven(v) - 1);
      checkNonNegative(ts, n, 'DDIMInverseScheduler.setTimesteps');
      return ts;
    }
    default:
      throw new RangeError(
        `DDIMInverseScheduler.setTimesteps: timestep_spacing '${cfg.timestep_spacing}' is not supported ` +
          `(diffusers supports only 'leading' and 'trailing' here)`,
      );
  }
}
