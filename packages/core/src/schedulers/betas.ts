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

/**
 * How the β/ᾱ tables are computed:
 * - 'float64' (default): exact double arithmetic, the reference of docs/numerics.md and spec §9;
 * - 'torch-float32': emulates diffusers on torch CPU (float32 linspace with torch's symmetric two-sided
 *   formula, float32 squares and 1 − β, cumprod accumulated in double and stored as float32). Matches the
 *   spec's float32 column exactly; use it to compare against tensors dumped from diffusers.
 */
export type AlphasPrecision = 'float64' | 'torch-float32';

/** torch.linspace(start, end, n, dtype=float32) on CPU: start + i·step for the first half, end − (n−1−i)·step after. */
function torchLinspaceFloat32(start: number, end: number, n: number): Float64Array {
  const f = Math.fround;
  const s = f(start);
  const e = f(end);
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = s;
    return out;
  }
  const step = f(f(e - s) / (n - 1));
  const half = Math.floor(n / 2);
  for (let i = 0; i < n; i++) out[i] = i < half ? f(s + f(step * i)) : f(e - f(step * (n - i - 1)));
  return out;
}

/** diffusers' betas_for_alpha_bar with the cosine ("squaredcos_cap_v2") transform, max_beta 0.999. */
function cosineBetas(n: number): Float64Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
  return out;
}

/**
 * The beta schedule β_0..β_{T−1} of a scheduler config, in float64 (diffusers builds it in float32; the
 * difference in ᾱ is below 5e-7, see docs/numerics.md).
 */
export function betasFromConfig(
  config: SchedulerConfig | ResolvedSchedulerConfig,
  precision: AlphasPrecision = 'float64',
): Float64Array {
  const cfg = resolveSchedulerConfig(config);
  const n = cfg.num_train_timesteps;
  const torch = precision === 'torch-float32';
  const space = torch ? torchLinspaceFloat32 : linspace;
  let betas: Float64Array;
  if (cfg.trained_betas !== null) {
    betas = Float64Array.from(cfg.trained_betas);
  } else if (cfg.beta_schedule === 'linear') {
    betas = space(cfg.beta_start, cfg.beta_end, n);
  } else if (cfg.beta_schedule === 'scaled_linear') {
    betas = space(Math.sqrt(cfg.beta_start), Math.sqrt(cfg.beta_end), n);
    for (let i = 0; i < n; i++) betas[i] = betas[i] * betas[i];
  } else {
    betas = cosineBetas(n);
  }
  if (cfg.rescale_betas_zero_snr) betas = rescaleZeroTerminalSnr(betas);
  if (torch) for (let i = 0; i < n; i++) betas[i] = Math.fround(betas[i]);
  return betas;
}

/** ᾱ[t] = Π_{i≤t} (1 − β_i), length num_train_timesteps (float64 values; see AlphasPrecision). */
export function alphasCumprodFromConfig(
  config: SchedulerConfig | ResolvedSchedulerConfig,
  precision: AlphasPrecision = 'float64',
): Float64Array {
  return alphasCumprodFromBetas(betasFromConfig(config, precision), precision);
}

export function alphasCumprodFromBetas(
  betas: ArrayLike<number>,
  precision: AlphasPrecision = 'float64',
): Float64Array {
  const torch = precision === 'torch-float32';
  const out = new Float64Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= torch ? Math.fround(1 - betas[i]) : 1 - betas[i];
    out[i] = torch ? Math.fround(acc) : acc;
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
