import { describe, expect, it } from 'vitest';
import { SeededRng, deterministicLog } from '@diffedit/core';

import { deterministicLogQuad, logQuad } from '../../src/random/det-log.js';

const bits64 = (a: Float64Array): BigUint64Array => new BigUint64Array(a.buffer, a.byteOffset, a.length);
const bits32 = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('SeededRng.fillNormal (four pairs a turn)', () => {
  it('gives the normal() calls’ numbers for every length, with and without a spare, and leaves the same state', () => {
    for (const startWithSpare of [false, true]) {
      for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 1000, 16384]) {
        const calls = new SeededRng(n + 100);
        const fill = new SeededRng(n + 100);
        if (startWithSpare) {
          calls.normal();
          fill.normal();
        }
        const expected = Float64Array.from({ length: n }, () => calls.normal());
        const got = fill.fillNormal(new Float64Array(n));
        expect(bits64(got)).toEqual(bits64(expected));
        expect(fill.snapshot()).toEqual(calls.snapshot());
        expect(fill.normal()).toBe(calls.normal());
      }
    }
  });

  it('scales by mean and std, into float32 arrays too, over consecutive fills of odd lengths', () => {
    const calls = new SeededRng(9).fork('noise');
    const fill = new SeededRng(9).fork('noise');
    for (const n of [3, 5, 1, 7, 16385, 2]) {
      const expected = Float32Array.from({ length: n }, () => 0.5 + 2.5 * calls.normal());
      const got = fill.fillNormal(new Float32Array(n), 0.5, 2.5);
      expect(bits32(got)).toEqual(bits32(expected));
    }
    expect(fill.snapshot()).toEqual(calls.snapshot());
  });
});

describe('deterministicLogQuad', () => {
  it('gives deterministicLog of each value, bit for bit', () => {
    const rng = new SeededRng(5);
    const specials = [
      1,
      2,
      0.5,
      Math.SQRT2,
      1.4142135623730951,
      1.4142135623730954,
      0.7071067811865476,
      5e-324,
      1e-310,
      2.2250738585072014e-308,
      2.225073858507201e-308,
      1 - 2 ** -53,
      1 + 2 ** -52,
      1e300,
      Number.MAX_VALUE,
      2 ** -104,
      3,
    ];
    const values = [...specials];
    for (let i = 0; i < 5000; i++)
      values.push(rng.uniform() * (i % 3 === 0 ? 1 : 2 ** ((i % 200) - 100)) || 1);
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      const y = values[(i * 7 + 3) % values.length];
      const z = values[(i * 13 + 5) % values.length];
      const w = values[(i * 31 + 11) % values.length];
      deterministicLogQuad(x, y, z, w);
      const got = Float64Array.from(logQuad);
      const expected = Float64Array.of(
        deterministicLog(x),
        deterministicLog(y),
        deterministicLog(z),
        deterministicLog(w),
      );
      expect(bits64(got)).toEqual(bits64(expected));
    }
  });
});
