import type { SeededRng } from '@diffedit/core';

/** The bits of float32 values, to compare results exactly (NaN payloads and ±0 included). */
export const bitsOf = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** float32 values spread over ±3 with ±0 and values at ±1 mixed in (no NaN: the kernels decline those). */
export function stepValues(n: number, rng: SeededRng): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const pick = rng.uniform();
    out[i] =
      pick < 0.05 ? 0 : pick < 0.1 ? -0 : pick < 0.15 ? (pick < 0.125 ? 1 : -1) : rng.uniform() * 6 - 3;
  }
  return out;
}
