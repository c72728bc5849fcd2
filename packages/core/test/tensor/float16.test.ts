import { describe, expect, it } from 'vitest';
import { float16BitsToNumber, fromFloat16Bits, toFloat16Bits } from '@diffedit/core';

// References: numpy's float32 → float16 cast (round to nearest even) and float16 → float32.
const VALUES = [
  0,
  -0,
  1,
  -2,
  1 / 3,
  0.1,
  65504,
  65520,
  70000,
  1e-8,
  2 ** -24,
  2 ** -25,
  3 * 2 ** -25,
  2 ** -14,
];
const MORE = [
  1.0009765625,
  1.00146484375,
  1 + 2 ** -11,
  1 + 3 * 2 ** -11,
  -1e5,
  5.960464477539063e-8,
  6.1e-5,
];
const NUMPY_BITS = [
  0, 32768, 15360, 49152, 13653, 11878, 31743, 31744, 31744, 0, 1, 0, 2, 1024, 15361, 15362, 15360, 15362,
  64512, 1, 1023,
];

describe('float16 conversion', () => {
  it('float32 → float16 bits match numpy (ties to even, overflow to infinity, subnormals)', () => {
    expect(Array.from(toFloat16Bits(Float32Array.from([...VALUES, ...MORE])))).toEqual(NUMPY_BITS);
    expect(toFloat16Bits([NaN])[0] & 0x7c00).toBe(0x7c00);
    expect(toFloat16Bits([NaN])[0] & 0x3ff).not.toBe(0);
  });

  it('float16 bits → float32 match numpy', () => {
    const bits = [0x0001, 0x03ff, 0x0400, 0x3555, 0x7bff, 0xfc00, 0x8001, 0x3c01];
    expect(Array.from(fromFloat16Bits(bits))).toEqual([
      5.960464477539063e-8,
      6.097555160522461e-5,
      6.103515625e-5,
      0.333251953125,
      65504,
      -Infinity,
      -5.960464477539063e-8,
      1.0009765625,
    ]);
    expect(float16BitsToNumber(0x7e00)).toBeNaN();
  });
});

describe('float16 round trip', () => {
  it('every non-NaN bit pattern survives bits → number → bits', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN payloads are not kept
      if (toFloat16Bits([float16BitsToNumber(h)])[0] !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });
  it('rounding up out of the mantissa carries into the exponent', () => {
    // 2 - 2^-12 lies halfway between 0x3fff (1.9990234375) and 2 (0x4000); ties go to the even 0x4000.
    expect(toFloat16Bits([2 - 2 ** -12, 65519, 65520])).toEqual(Uint16Array.from([0x4000, 0x7bff, 0x7c00]));
  });
});
