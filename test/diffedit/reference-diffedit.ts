/**
 * An independent float64 re-implementation of diffusers' DiffEdit loops (spec §3, §6, §7), written from the
 * spec for the parity tests only. It shares no code with the product: schedules, strength slicing, DDIM and
 * DDIM-inverse steps, CFG and the P6 blend are all recomputed here.
 */

export const T = 1000;

/** ᾱ for SD's scaled_linear betas (0.00085 → 0.012), float64. */
export function alphasCumprod64(betaStart = 0.00085, betaEnd = 0.012): Float64Array {
  const out = new Float64Array(T);
  const a = Math.sqrt(betaStart);
  const b = Math.sqrt(betaEnd);
  let prod = 1;
  for (let i = 0; i < T; i++) {
    const beta = (a + ((b - a) * i) / (T - 1)) ** 2;
    prod *= 1 - beta;
    out[i] = prod;
  }
  return out;
}

export interface ReferenceConfig {
  steps: number;
  strength: number;
  guidance: number;
  clipSample: boolean;
  /** `epsilon` only: the analytic and toy UNets predict noise */
  alphas: Float64Array;
}

/** ε(x, t, which) for one latent (4·h·w values) under the conditional or unconditional embedding. */
export type EpsFn = (x: Float64Array, t: number, which: 'cond' | 'uncond') => Float64Array;

function usedCount(cfg: ReferenceConfig): number {
  return Math.min(Math.trunc(cfg.steps * cfg.strength), cfg.steps);
}

/** Inverse timesteps actually used: [1, 1+r, …] with k entries (spec §3.5, §3.7). */
export function inverseTimesteps(cfg: ReferenceConfig): number[] {
  const ratio = Math.floor(T / cfg.steps);
  return Array.from({ length: usedCount(cfg) }, (_, i) => i * ratio + 1);
}

/** Forward timesteps used: the last k of [(N−1)r+1, …, 1] (spec §3.2, §3.7). */
export function forwardTimesteps(cfg: ReferenceConfig): number[] {
  return inverseTimesteps(cfg).reverse();
}

function guided(eps: EpsFn, x: Float64Array, t: number, g: number): Float64Array {
  const c = eps(x, t, 'cond');
  if (g <= 1) return c;
  const u = eps(x, t, 'uncond');
  return c.map((v, i) => u[i] + g * (v - u[i]));
}

function clip(v: number, on: boolean): number {
  return on ? Math.min(1, Math.max(-1, v)) : v;
}

/** DDIM inversion from the clean latent x0; returns the stored latents, noisiest first (spec §6). */
export function referenceInvert(x0: Float64Array, eps: EpsFn, cfg: ReferenceConfig): Float64Array[] {
  const ratio = Math.floor(T / cfg.steps);
  const store: Float64Array[] = [];
  let x = Float64Array.from(x0);
  for (const t of inverseTimesteps(cfg)) {
    const out = guided(eps, x, t, cfg.guidance);
    const src = Math.min(t - ratio, T - 1);
    const aSrc = src >= 0 ? cfg.alphas[src] : cfg.alphas[0];
    const aTgt = cfg.alphas[t];
    x = x.map((xv, i) => {
      const pred = clip((xv - Math.sqrt(1 - aSrc) * out[i]) / Math.sqrt(aSrc), cfg.clipSample);
      return Math.sqrt(aTgt) * pred + Math.sqrt(1 - aTgt) * out[i];
    });
    store.push(x);
  }
  return store.reverse();
}

/** Masked DDIM decoding (eta 0) from the stored latents, with the P6 blend (spec §7). */
export function referenceDenoise(
  latents: readonly Float64Array[],
  mask: Float64Array,
  eps: EpsFn,
  cfg: ReferenceConfig,
  /** what replaces the background after step i; diffusers (P6): the stored latent i, at level t */
  backgroundAt: (i: number) => Float64Array = (i) => latents[i],
): Float64Array {
  const ratio = Math.floor(T / cfg.steps);
  const ts = forwardTimesteps(cfg);
  if (ts.length !== latents.length) throw new Error('reference: latents/steps mismatch');
  const plane = mask.length;
  let x = Float64Array.from(latents[0]);
  ts.forEach((t, i) => {
    const out = guided(eps, x, t, cfg.guidance);
    const prev = t - ratio;
    const aT = cfg.alphas[t];
    const aPrev = prev >= 0 ? cfg.alphas[prev] : cfg.alphas[0];
    const stepped = x.map((xv, k) => {
      const pred = clip((xv - Math.sqrt(1 - aT) * out[k]) / Math.sqrt(aT), cfg.clipSample);
      return Math.sqrt(aPrev) * pred + Math.sqrt(1 - aPrev) * out[k];
    });
    const background = backgroundAt(i);
    x = stepped.map((v, k) => {
      const m = mask[k % plane];
      return v * m + background[k] * (1 - m);
    });
  });
  return x;
}
