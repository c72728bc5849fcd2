import { resolveSchedulerConfig } from './config.js';
import type { ResolvedSchedulerConfig, SchedulerConfig } from './config.js';

/** numpy/torch `linspace(start, end, n)` in float64 (endpoints exact). */
function linspace(start: number, end: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  out[n - 1] = end;
  return out;
}

/** diffusers' betas_for_alpha_bar with the cosine ("squaredcos_cap_v2") transform, max_beta 0.999. */
function cosineBetas(n: number): Float64Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
  return out;
}

function resolved(cfg: SchedulerConfig | ResolvedSchedulerConfig): ResolvedSchedulerConfig {
  return resolveSchedulerConfig(cfg);
}

/**
 * The beta schedule β_0..β_{T−1} of a scheduler config, in float64 (diffusers builds it in float32; the
 * difference in ᾱ is below 5e-7, see docs/numerics.md).
 */
export function betasFromConfig(config: SchedulerConfig | ResolvedSchedulerConfig): Float64Array {
  const cfg = resolved(config);
  const n = cfg.num_train_timesteps;
  let betas: Float64Array;
  if (cfg.trained_betas !== null) {
    betas = Float64Array.from(cfg.trained_betas);
  } else if (cfg.beta_schedule === 'linear') {
    betas = linspace(cfg.beta_start, cfg.beta_end, n);
  } else if (cfg.beta_schedule === 'scaled_linear') {
    betas = linspace(Math.sqrt(cfg.beta_start), Math.sqrt(cfg.beta_end), n);
    for (let i = 0; i < n; i++) betas[i] = betas[i] * betas[i];
  } else {
    betas = cosineBetas(n);
  }
  if (cfg.rescale_betas_zero_snr) betas = rescaleZeroTerminalSnr(betas);
  return betas;
}

/** ᾱ[t] = Π_{i≤t} (1 − β_i), float64, length num_train_timesteps. */
export function alphasCumprodFromConfig(config: SchedulerConfig | ResolvedSchedulerConfig): Float64Array {
  return alphasCumprodFromBetas(betasFromConfig(config));
}

export function alphasCumprodFromBetas(betas: ArrayLike<number>): Float64Array {
  const out = new Float64Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= 1 - betas[i];
    out[i] = acc;
  }
  return out;
}

/**
 * Rescales betas to zero terminal SNR (Lin et al. 2023, Algorithm 1), as diffusers' rescale_zero_terminal_snr:
 * shift √ᾱ so the last value is 0 and scale so the first is unchanged.
 */
function rescaleZeroTerminalSnr(betas: Float64Array): Float64Array {
  const n = betas.length;
  const sqrtBar = alphasCumprodFromBetas(betas).map(Math.sqrt);
  const first = sqrtBar[0];
  const last = sqrtBar[n - 1];
  for (let i = 0; i < n; i++) sqrtBar[i] = ((sqrtBar[i] - last) * first) / (first - last);
  const out = new Float64Array(n);
  let prevBar = 1;
  for (let i = 0; i < n; i++) {
    const bar = sqrtBar[i] * sqrtBar[i];
    out[i] = 1 - bar / prevBar;
    prevBar = bar;
  }
  return out;
}
