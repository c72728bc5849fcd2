import { describe, expect, it } from 'vitest';
import {
  DDIMInverseScheduler,
  DDIMScheduler,
  SeededRng,
  Tensor,
  classifierFreeGuidance,
  guide,
  guidedEpsilonStep,
} from '@diffedit/core';
import type { SchedulerConfig } from '@diffedit/core';

import { epsilonStep } from '../../src/schedulers/step-math.js';
import type { FloatArray } from '../../src/schedulers/step-math.js';

/** The ε step as DDIM and DDIM-inverse wrote it before epsilonStep (compare-and-branch clip). */
function referenceStep(
  x: FloatArray,
  o: FloatArray,
  out: FloatArray,
  x0: FloatArray,
  sa: number,
  sb: number,
  c1: number,
  c2: number,
  r: number,
): void {
  for (let i = 0; i < x0.length; i++) {
    x0[i] = (x[i] - sb * o[i]) / sa;
    const v = x0[i];
    if (v < -r) x0[i] = -r;
    else if (v > r) x0[i] = r;
    out[i] = c1 * x0[i] + c2 * o[i];
  }
}

const SPECIAL = [NaN, -NaN, 0, -0, Infinity, -Infinity, 1, -1, 1e-45, -1e-45, 3.4e38, -3.4e38];

/** Random values with the special ones, values at and next to ±r and ±float32(r) mixed in. */
function inputs(n: number, r: number, rng: SeededRng): Float32Array {
  const a = new Float32Array(n);
  const fr = Math.fround(r);
  const near = [r, -r, fr, -fr, Math.fround(fr * (1 + 2 ** -23)), Math.fround(-fr * (1 - 2 ** -24))];
  for (let i = 0; i < n; i++) {
    const k = rng.uniform();
    if (k < 0.1) a[i] = SPECIAL[Math.floor(rng.uniform() * SPECIAL.length)];
    else if (k < 0.2) a[i] = near[Math.floor(rng.uniform() * near.length)];
    else a[i] = (rng.uniform() * 2 - 1) * 3 * (Number.isFinite(r) ? Math.max(r, 1) : 1);
  }
  return a;
}

const bitsOf = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Expects epsilonStep(x, o) to give referenceStep's bits (out and x̂0); returns the reference's result. */
function expectReferenceBits(
  x: Float32Array,
  o: Float32Array,
  [sa, sb, c1, c2]: readonly number[],
  r: number,
): { out: Float32Array; x0: Float32Array } {
  const n = x.length;
  const expected = { out: new Float32Array(n), x0: new Float32Array(n) };
  referenceStep(x, o, expected.out, expected.x0, sa, sb, c1, c2, r);
  const got = { out: new Float32Array(n), x0: new Float32Array(n) };
  epsilonStep(x, o, got.out, got.x0, sa, sb, c1, c2, r);
  expect(bitsOf(got.x0)).toEqual(bitsOf(expected.x0));
  expect(bitsOf(got.out)).toEqual(bitsOf(expected.out));
  return expected;
}

describe('epsilonStep (DDIM and DDIM-inverse ε step in one pass)', () => {
  const ranges = [1, 0.1, 2.5, 1e-40, 3.5e38, 1e39, Infinity, Number.MIN_VALUE];
  const coefficients = [
    [1, 0, 1, 0], // x̂0 = x: the clip alone decides
    [0.3, 0.95, 0.8, 0.6],
    [0.9991, 0.0412, 1, 0],
    [1e-3, 0.9999995, 0.02, 0.9998],
  ];
  it.each(ranges)('gives the bits of the compare-and-branch clip on float32 arrays (range %s)', (r) => {
    const rng = new SeededRng(Math.floor(r === Infinity ? 7 : r * 1e6) % 1000);
    for (const [sa, sb, c1, c2] of coefficients) {
      const n = 4099;
      const x = inputs(n, r, rng);
      // the model output's specials make x̂0 NaN or infinite, too
      const o = inputs(n, r, rng);
      const expected = expectReferenceBits(x, o, [sa, sb, c1, c2], r);
      // in place: out is the sample, then the model output
      for (const inPlace of ['x', 'o'] as const) {
        const xs = x.slice();
        const os = o.slice();
        const x0 = new Float32Array(n);
        epsilonStep(xs, os, inPlace === 'x' ? xs : os, x0, sa, sb, c1, c2, r);
        expect(bitsOf(x0)).toEqual(bitsOf(expected.x0));
        expect(bitsOf(inPlace === 'x' ? xs : os)).toEqual(bitsOf(expected.out));
      }
    }
  });

  it('writes into a float32 view at an offset of a larger buffer', () => {
    const rng = new SeededRng(3);
    const n = 257;
    const x = inputs(n, 1, rng);
    const o = inputs(n, 1, rng);
    const expected = { out: new Float32Array(n), x0: new Float32Array(n) };
    referenceStep(x, o, expected.out, expected.x0, 0.5, 0.8, 0.9, 0.4, 1);
    const big = new Float32Array(3 * n);
    const x0 = big.subarray(n, 2 * n);
    const out = new Float32Array(n);
    epsilonStep(x, o, out, x0, 0.5, 0.8, 0.9, 0.4, 1);
    expect(bitsOf(x0)).toEqual(bitsOf(expected.x0));
    expect(bitsOf(out)).toEqual(bitsOf(expected.out));
    expect(big.subarray(0, n).every((v) => v === 0)).toBe(true);
    expect(big.subarray(2 * n).every((v) => v === 0)).toBe(true);
  });

  it('keeps the comparisons for float64 arrays (the reference tests’ precision)', () => {
    const rng = new SeededRng(5);
    const n = 1000;
    const x = Float64Array.from(inputs(n, 1, rng), (v, i) => v + (i % 7) * 1e-12);
    const o = Float64Array.from(inputs(n, 1, rng));
    const expected = { out: new Float64Array(n), x0: new Float64Array(n) };
    referenceStep(x, o, expected.out, expected.x0, 0.7, 0.7, 0.8, 0.6, 1);
    const got = { out: new Float64Array(n), x0: new Float64Array(n) };
    epsilonStep(x, o, got.out, got.x0, 0.7, 0.7, 0.8, 0.6, 1);
    expect(got).toEqual(expected);
  });

  it('is what DDIMScheduler.step and DDIMInverseScheduler.step do for ε with clip_sample', () => {
    const config = { clip_sample: true, clip_sample_range: 1, set_alpha_to_one: false, steps_offset: 1 };
    const forward = new DDIMScheduler(config);
    forward.setTimesteps(50);
    const inverse = new DDIMInverseScheduler(config);
    inverse.setTimesteps(50);
    const rng = new SeededRng(11);
    const n = 2048;
    for (const t of [981, 501, 21, 1]) {
      const x = inputs(n, 1, rng);
      const o = inputs(n, 1, rng);
      const got = forward.step(o, t, x);
      const aT = forward.alphasCumprod[t];
      const prev = t - forward.stepRatio;
      const aPrev = prev >= 0 ? forward.alphasCumprod[prev] : forward.finalAlphaCumprod;
      const expected = { out: new Float32Array(n), x0: new Float32Array(n) };
      const [sa, sb] = [Math.sqrt(aT), Math.sqrt(1 - aT)];
      referenceStep(x, o, expected.out, expected.x0, sa, sb, Math.sqrt(aPrev), Math.sqrt(1 - aPrev), 1);
      expect(bitsOf(got.prevSample)).toEqual(bitsOf(expected.out));
      expect(bitsOf(got.predOriginalSample)).toEqual(bitsOf(expected.x0));

      const up = inverse.step(o, t, x);
      const src = inverse.sourceTimestep(t);
      const aSrc = src >= 0 ? inverse.alphasCumprod[src] : inverse.initialAlphaCumprod;
      const [ss, sbs] = [Math.sqrt(aSrc), Math.sqrt(1 - aSrc)];
      referenceStep(x, o, expected.out, expected.x0, ss, sbs, Math.sqrt(aT), Math.sqrt(1 - aT), 1);
      expect(bitsOf(up.prevSample)).toEqual(bitsOf(expected.out));
      expect(bitsOf(up.predOriginalSample)).toEqual(bitsOf(expected.x0));
    }
  });
});

describe('the float32 clamp at its edges', () => {
  // NaNs with payloads and signs (quiet and signalling): the clamp must hand them on bit for bit
  const nans = new Float32Array(new Uint32Array([0x7fc00001, 0xffc00000, 0x7fa00000, 0xff800001]).buffer);
  const edges = (r: number): Float32Array => {
    const fr = Math.fround(r);
    const up = (v: number): number => Math.fround(v * (1 + 2 ** -23));
    return Float32Array.from([
      ...nans,
      ...[0, -0, fr, -fr, up(fr), -up(fr), Math.fround(fr * (1 - 2 ** -24)), Infinity, -Infinity],
      ...[1e-45, -1e-45, 3.4e38, -3.4e38, 0.5, -2],
    ]);
  };
  // every pairing of two edge values, as (x, o) and as the guidance pair (u, c)
  const pairs = (values: Float32Array): [Float32Array, Float32Array] => {
    const n = values.length;
    const a = new Float32Array(n * n);
    const b = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        a[i * n + j] = values[i];
        b[i * n + j] = values[j];
      }
    }
    return [a, b];
  };

  it.each([1, 0, 0.1, 1.1, 1e-40, 3.4e38, 1e39])(
    'gives the compare-and-branch bits for NaN payloads, ±0, ±∞ and values at ±r (range %s)',
    (r) => {
      const [x, o] = pairs(edges(r));
      const n = x.length;
      for (const [sa, sb, c1, c2] of [
        [1, 0, 1, 0],
        [1, 1, 1, 1],
        [0.5, 0.5, 2, -1],
      ]) {
        const expected = expectReferenceBits(x, o, [sa, sb, c1, c2], r);
        // guided: u and c from the edges, x rotated so that every row meets other values
        const got = { out: new Float32Array(n), x0: new Float32Array(n) };
        for (const g of [1, 0, 7.5]) {
          const xs = x.map((_, i) => x[(i * 7 + 3) % n]);
          const guided = guide(new Tensor([n], x), new Tensor([n], o), g).data;
          referenceStep(xs, guided, expected.out, expected.x0, sa, sb, c1, c2, r);
          guidedEpsilonStep(x, o, g, xs, got.out, got.x0, sa, sb, c1, c2, r);
          expect(bitsOf(got.x0)).toEqual(bitsOf(expected.x0));
          expect(bitsOf(got.out)).toEqual(bitsOf(expected.out));
        }
      }
    },
  );
});

describe('guidedEpsilonStep (guidance computed where the ε step reads it)', () => {
  it.each([1, 0.1, Infinity, 1e-40])('gives guide() then epsilonStep’s bits (range %s)', (r) => {
    const rng = new SeededRng(21);
    const n = 3001;
    for (const g of [7.5, 1.5, 0, -2, 1e30]) {
      for (const [sa, sb, c1, c2] of [
        [0.3, 0.95, 0.8, 0.6],
        [0.9991, 0.0412, 1, 0],
      ]) {
        const u = inputs(n, r, rng);
        const c = inputs(n, r, rng);
        const x = inputs(n, r, rng);
        const guided = guide(new Tensor([n], u), new Tensor([n], c), g).data;
        const expected = { out: new Float32Array(n), x0: new Float32Array(n) };
        epsilonStep(x, guided, expected.out, expected.x0, sa, sb, c1, c2, r);
        const got = { out: new Float32Array(n), x0: new Float32Array(n) };
        guidedEpsilonStep(u, c, g, x, got.out, got.x0, sa, sb, c1, c2, r);
        expect(bitsOf(got.x0)).toEqual(bitsOf(expected.x0));
        expect(bitsOf(got.out)).toEqual(bitsOf(expected.out));
        // in place on the sample, and onto the model output (the fallback through a guided buffer)
        const xs = x.slice();
        const x0 = new Float32Array(n);
        guidedEpsilonStep(u, c, g, xs, xs, x0, sa, sb, c1, c2, r);
        expect(bitsOf(xs)).toEqual(bitsOf(expected.out));
        expect(bitsOf(x0)).toEqual(bitsOf(expected.x0));
        const us = u.slice();
        guidedEpsilonStep(us, c, g, x, us, x0, sa, sb, c1, c2, r);
        expect(bitsOf(us)).toEqual(bitsOf(expected.out));
      }
    }
  });

  it('with the schedulers’ coefficients, is classifierFreeGuidance then step (DDIM η = 0, DDIM-inverse)', () => {
    const config = { clip_sample: true, clip_sample_range: 1, set_alpha_to_one: false, steps_offset: 1 };
    const forward = new DDIMScheduler(config);
    forward.setTimesteps(50);
    const inverse = new DDIMInverseScheduler(config);
    inverse.setTimesteps(50);
    const rng = new SeededRng(12);
    const dims = [1, 4, 8, 8];
    const n = 256;
    for (const t of [981, 501, 1]) {
      const raw = new Tensor([2, 4, 8, 8], Float32Array.from([...inputs(n, 1, rng), ...inputs(n, 1, rng)]));
      const x = new Tensor(dims, inputs(n, 1, rng));
      for (const s of [forward, inverse]) {
        const expected = s.step(classifierFreeGuidance(raw, 7.5), t, x);
        const k = s.epsilonStepCoefficients(t)!;
        const out = new Float32Array(n);
        const x0 = new Float32Array(n);
        const [u, c] = [raw.data.subarray(0, n), raw.data.subarray(n)];
        guidedEpsilonStep(u, c, 7.5, x.data, out, x0, k.sa, k.sb, k.c1, k.c2, k.clipRange);
        expect(bitsOf(out)).toEqual(bitsOf(expected.prevSample.data));
        expect(bitsOf(x0)).toEqual(bitsOf(expected.predOriginalSample.data));
      }
    }
  });

  it('no single-pass coefficients where step() takes another path', () => {
    const make = (config: SchedulerConfig): DDIMScheduler => {
      const s = new DDIMScheduler(config);
      s.setTimesteps(50);
      return s;
    };
    expect(make({}).epsilonStepCoefficients(501)).toBeDefined();
    expect(make({}).epsilonStepCoefficients(501, 1)).toBeUndefined();
    expect(make({}).epsilonStepCoefficients(501, -1)).toBeUndefined();
    expect(make({ prediction_type: 'v_prediction' }).epsilonStepCoefficients(501)).toBeUndefined();
    expect(make({ thresholding: true }).epsilonStepCoefficients(501)).toBeUndefined();
    const inverse = new DDIMInverseScheduler({ prediction_type: 'sample' });
    inverse.setTimesteps(50);
    expect(inverse.epsilonStepCoefficients(501)).toBeUndefined();
  });
});
