import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DDIMInverseScheduler, DDIMScheduler, Tensor } from '@diffedit/core';

/*
 * 120 random single steps (3 beta schedules × 3 prediction types, clipping, set_alpha_to_one, eta with given
 * noise, use_clipped_model_output, dynamic thresholding on a batch of 2) against a float64 numpy transcription
 * of diffusers' step functions (fixtures/make_steps.py).
 */
interface Case {
  config: Record<string, unknown>;
  n: number;
  t: number;
  eta: number;
  useClippedModelOutput: boolean;
  shape: number[];
  x: number[];
  out: number[];
  noise: number[];
  prev: number[];
  x0: number[];
  inverseNext: number[];
  inverseX0: number[];
}
const cases = JSON.parse(
  readFileSync(new URL('./fixtures/steps-numpy.json', import.meta.url), 'utf8'),
) as Case[];

function maxErr(a: ArrayLike<number>, b: readonly number[]): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// Thresholding needs a batch axis; float64 Tensors do not exist, so those cases run on Float64Array data
// through a row-aware path: one DDIM step per batch row is identical to a batched step.
function forward(c: Case) {
  const s = DDIMScheduler.fromConfig(c.config);
  s.setTimesteps(c.n);
  const rows = c.shape[0];
  const len = c.x.length / rows;
  const prev = new Float64Array(c.x.length);
  const x0 = new Float64Array(c.x.length);
  for (let r = 0; r < rows; r++) {
    const part = (v: number[]) => Float64Array.from(v.slice(r * len, (r + 1) * len));
    const res = s.step(part(c.out), c.t, part(c.x), {
      eta: c.eta,
      noise: part(c.noise),
      useClippedModelOutput: c.useClippedModelOutput,
    });
    prev.set(res.prevSample, r * len);
    x0.set(res.predOriginalSample, r * len);
  }
  return { prev, x0 };
}

describe('DDIM steps against numpy (float64, 1e-12)', () => {
  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const f = forward(c);
    expect(maxErr(f.x0, c.x0)).toBeLessThan(1e-12);
    expect(maxErr(f.prev, c.prev)).toBeLessThan(1e-12);
    const inv = DDIMInverseScheduler.fromConfig(c.config);
    inv.setTimesteps(c.n);
    const r = inv.step(Float64Array.from(c.out), c.t, Float64Array.from(c.x));
    expect(maxErr(r.predOriginalSample, c.inverseX0)).toBeLessThan(1e-12);
    expect(maxErr(r.prevSample, c.inverseNext)).toBeLessThan(1e-12);
  });
  it('batched Tensor steps (thresholding per row) agree with the float64 reference to float32 precision', () => {
    const thresholded = cases.filter((k) => k.config.thresholding === true);
    expect(thresholded.length).toBeGreaterThan(5);
    for (const c of thresholded) {
      const s = DDIMScheduler.fromConfig(c.config);
      s.setTimesteps(c.n);
      const T = (v: number[]) => Tensor.from(c.shape, v);
      const res = s.step(T(c.out), c.t, T(c.x), {
        eta: c.eta,
        noise: T(c.noise),
        useClippedModelOutput: c.useClippedModelOutput,
      });
      expect(maxErr(res.predOriginalSample.data, c.x0)).toBeLessThan(1e-5);
      expect(maxErr(res.prevSample.data, c.prev)).toBeLessThan(1e-5);
    }
  });
});
