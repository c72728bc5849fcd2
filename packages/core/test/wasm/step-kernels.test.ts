import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';
import { SeededRng, Tensor, guide } from '@diffedit/core';

import { epsilonStep } from '../../src/schedulers/step-math.js';
import {
  stepKernelsAvailable,
  wasmGuidedEpsilonStep,
  WASM_STEP_MIN_VALUES,
} from '../../src/wasm/step-kernels.js';
import { bitsOf, stepValues as values } from './float-values.js';

const script = fileURLToPath(new URL('../../scripts/build-wasm.mjs', import.meta.url));

/** guide() then the JavaScript ε step: the bits the kernel must give. */
function expected(
  u: Float32Array,
  c: Float32Array,
  g: number,
  x: Float32Array,
  k: readonly [number, number, number, number],
  r: number,
): { out: Float32Array; x0: Float32Array } {
  const n = x.length;
  const o = guide(new Tensor([n], u), new Tensor([n], c), g).data;
  const e = { out: new Float32Array(n), x0: new Float32Array(n) };
  epsilonStep(x, o, e.out, e.x0, k[0], k[1], k[2], k[3], r);
  return e;
}

describe('the guided ε step kernel (WebAssembly)', () => {
  it('is built from the committed .wat (the generated module is not stale)', () => {
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('runs on this engine (WebAssembly SIMD), so the loops do not silently take the JavaScript path', () => {
    expect(stepKernelsAvailable()).toBe(true);
  });

  it.each([1, 0.1, 0, Infinity])('gives the JavaScript step’s bits, odd and even lengths (range %s)', (r) => {
    const rng = new SeededRng(7);
    for (const n of [WASM_STEP_MIN_VALUES, WASM_STEP_MIN_VALUES + 1, 3001, 4096]) {
      for (const g of [7.5, 1, 0, -2]) {
        for (const k of [
          [0.3, 0.95, 0.8, 0.6],
          [0.9991, 0.0412, 1, 0],
        ] as const) {
          const [u, c, x] = [values(n, rng), values(n, rng), values(n, rng)];
          const [sa, sb, c1, c2] = k;
          const want = expected(u, c, g, x, k, r);
          const got = { out: new Float32Array(n), x0: new Float32Array(n) };
          expect(wasmGuidedEpsilonStep(u, c, g, x, got.out, got.x0, sa, sb, c1, c2, r)).toBe(true);
          expect(bitsOf(got.x0)).toEqual(bitsOf(want.x0));
          expect(bitsOf(got.out)).toEqual(bitsOf(want.out));
          // in place (out = x, the denoising loop's case): the same bits
          const inPlace = x.slice();
          const x0 = new Float32Array(n);
          expect(wasmGuidedEpsilonStep(u, c, g, inPlace, inPlace, x0, sa, sb, c1, c2, r)).toBe(true);
          expect(bitsOf(inPlace)).toEqual(bitsOf(want.out));
        }
      }
    }
  });

  it('keeps its bits when the sizes alternate and the memory grows between calls (its views are remade)', () => {
    const rng = new SeededRng(9);
    for (const n of [4096, 64, 300_000, 4096, 300_000]) {
      const [u, c, x] = [values(n, rng), values(n, rng), values(n, rng)];
      const k = [0.3, 0.95, 0.8, 0.6] as const;
      const want = expected(u, c, 7.5, x, k, 1);
      const got = { out: new Float32Array(n), x0: new Float32Array(n) };
      expect(wasmGuidedEpsilonStep(u, c, 7.5, x, got.out, got.x0, ...k, 1)).toBe(true);
      expect(bitsOf(got.out)).toEqual(bitsOf(want.out));
      expect(bitsOf(got.x0)).toEqual(bitsOf(want.x0));
    }
  });

  it('declines, writing nothing, a NaN anywhere in the guided ε or x̂0, and arrays too small to pay', () => {
    const rng = new SeededRng(3);
    const n = 256;
    for (const input of [0, 1, 2]) {
      const arrays = [values(n, rng), values(n, rng), values(n, rng)];
      arrays[input][n - 1] = NaN;
      const out = new Float32Array(n).fill(5);
      const x0 = new Float32Array(n).fill(5);
      expect(
        wasmGuidedEpsilonStep(arrays[0], arrays[1], 7.5, arrays[2], out, x0, 0.3, 0.95, 0.8, 0.6, 1),
      ).toBe(false);
      expect(out.every((v) => v === 5) && x0.every((v) => v === 5)).toBe(true);
    }
    const small = values(WASM_STEP_MIN_VALUES - 1, rng);
    const out = new Float32Array(small.length);
    expect(wasmGuidedEpsilonStep(small, small, 1, small, out, out.slice(), 1, 0, 1, 0, 1)).toBe(false);
  });
});
