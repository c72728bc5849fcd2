import { describe, expect, it } from 'vitest';
import { SeededRng, Tensor, diffEditBlend, guidedEpsilonStep, guidedEpsilonStepBlend } from '@diffedit/core';

import { wasmGuidedEpsilonStep } from '../../src/wasm/step-kernels.js';
import { bitsOf, stepValues as values } from '../wasm/float-values.js';

/** A mask plane: mostly 0 and 1 (DiffEdit's), some soft values. */
function maskPlane(n: number, rng: SeededRng): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const pick = rng.uniform();
    return pick < 0.45 ? 0 : pick < 0.9 ? 1 : Math.fround(rng.uniform());
  });
}

const K = [
  { sa: 0.3, sb: 0.95, c1: 0.8, c2: 0.6, clipRange: 1 },
  { sa: 0.9991, sb: 0.0412, c1: 1, c2: 0, clipRange: Infinity },
  { sa: 0.5, sb: 0.8, c1: 0.7, c2: 0.7, clipRange: 0 },
] as const;

/** guidedEpsilonStep into out, then diffEditBlend in place: the bits the fused step must give. */
function expected(
  u: Float32Array,
  c: Float32Array,
  g: number,
  x: Float32Array,
  k: (typeof K)[number],
  dims: readonly number[],
  mask: Tensor,
  background: Tensor,
): { out: Float32Array; x0: Float32Array } {
  const out = new Tensor(dims);
  const x0 = new Float32Array(out.size);
  guidedEpsilonStep(u, c, g, x, out.data, x0, k.sa, k.sb, k.c1, k.c2, k.clipRange);
  diffEditBlend(out, mask, background, out);
  return { out: out.data, x0 };
}

/** wasmGuidedEpsilonStep with a blend, the coefficients and tensors as the loop holds them. */
function kernel(
  u: Float32Array,
  c: Float32Array,
  g: number,
  x: Float32Array,
  out: Float32Array,
  x0: Float32Array,
  k: (typeof K)[number],
  mask: Tensor,
  background: Tensor,
): boolean {
  const blend = { mask: mask.data, background: background.data };
  return wasmGuidedEpsilonStep(u, c, g, x, out, x0, k.sa, k.sb, k.c1, k.c2, k.clipRange, blend);
}

describe('the denoising step with its blend in one pass', () => {
  it('gives the bits of guidedEpsilonStep then diffEditBlend, in place or not, across planes and channels', () => {
    const rng = new SeededRng(21);
    for (const [C, h, w] of [
      [4, 32, 32],
      [4, 8, 6],
      [3, 16, 16],
    ] as const) {
      const dims = [1, C, h, w];
      const n = C * h * w;
      for (const k of K) {
        for (const g of [7.5, 0]) {
          const [u, c, x] = [values(n, rng), values(n, rng), values(n, rng)];
          const mask = new Tensor([1, 1, h, w], maskPlane(h * w, rng));
          const background = new Tensor(dims, values(n, rng));
          const want = expected(u, c, g, x, k, dims, mask, background);
          const out = new Tensor(dims);
          const x0 = new Float32Array(n);
          guidedEpsilonStepBlend(u, c, g, x, out, x0, k, mask, background);
          expect(bitsOf(out.data)).toEqual(bitsOf(want.out));
          expect(bitsOf(x0)).toEqual(bitsOf(want.x0));
          // in place, as the loop calls it; and the kernel itself takes this case (not the fallback)
          const inPlace = new Tensor(dims, x.slice());
          guidedEpsilonStepBlend(u, c, g, inPlace.data, inPlace, x0, k, mask, background);
          expect(bitsOf(inPlace.data)).toEqual(bitsOf(want.out));
          const direct = new Tensor(dims, x.slice());
          expect(kernel(u, c, g, direct.data, direct.data, x0, k, mask, background)).toBe(true);
          expect(bitsOf(direct.data)).toEqual(bitsOf(want.out));
          // guidedEpsilonStep says the kernel blended (its caller then does not blend again)
          const stepped = new Float32Array(n);
          const blend = { mask: mask.data, background: background.data };
          expect(guidedEpsilonStep(u, c, g, x, stepped, x0, k.sa, k.sb, k.c1, k.c2, k.clipRange, blend)).toBe(
            true,
          );
          expect(bitsOf(stepped)).toEqual(bitsOf(want.out));
        }
      }
    }
  });

  it('falls back to the two functions where the kernel declines: NaNs, odd planes, batches, per-batch masks', () => {
    const rng = new SeededRng(4);
    const k = K[0];
    const cases: { dims: number[]; maskDims: number[]; nanIn?: 'background' | 'u' }[] = [
      { dims: [1, 4, 8, 8], maskDims: [1, 1, 8, 8], nanIn: 'background' },
      { dims: [1, 4, 8, 8], maskDims: [1, 1, 8, 8], nanIn: 'u' },
      { dims: [1, 4, 7, 9], maskDims: [1, 1, 7, 9] },
      { dims: [2, 4, 8, 8], maskDims: [1, 1, 8, 8] },
      { dims: [2, 4, 8, 8], maskDims: [2, 1, 8, 8] },
    ];
    for (const { dims, maskDims, nanIn } of cases) {
      const n = dims.reduce((a, b) => a * b, 1);
      const plane = maskDims.reduce((a, b) => a * b, 1);
      const [u, c, x] = [values(n, rng), values(n, rng), values(n, rng)];
      const mask = new Tensor(maskDims, maskPlane(plane, rng));
      const background = new Tensor(dims, values(n, rng));
      if (nanIn === 'background') background.data[5] = NaN;
      if (nanIn === 'u') u[n - 1] = NaN;
      if (nanIn !== undefined || plane % 2 !== 0) {
        const out = new Float32Array(n).fill(5);
        expect(kernel(u, c, 7.5, x, out, new Float32Array(n), k, mask, background)).toBe(false);
        expect(out.every((v) => v === 5)).toBe(true);
      }
      const want = expected(u, c, 7.5, x, k, dims, mask, background);
      if (nanIn !== undefined || plane % 2 !== 0) {
        // declined blend: the step alone, and guidedEpsilonStep says so
        const blend = { mask: mask.data, background: background.data };
        const stepped = new Float32Array(n);
        expect(
          guidedEpsilonStep(
            u,
            c,
            7.5,
            x,
            stepped,
            new Float32Array(n),
            k.sa,
            k.sb,
            k.c1,
            k.c2,
            k.clipRange,
            blend,
          ),
        ).toBe(false);
      }
      const out = new Tensor(dims);
      const x0 = new Float32Array(n);
      guidedEpsilonStepBlend(u, c, 7.5, x, out, x0, k, mask, background);
      expect(bitsOf(out.data)).toEqual(bitsOf(want.out));
      expect(bitsOf(x0)).toEqual(bitsOf(want.x0));
    }
  });
});
