import { describe, expect, it } from 'vitest';
import {
  Tensor,
  abs,
  absDiff,
  add,
  addScalar,
  affine,
  axpy,
  axpyInPlace,
  clamp,
  div,
  linearCombination,
  mapElements,
  maskedBlend,
  maxAll,
  meanAll,
  meanAxes,
  minAll,
  mul,
  scale,
  sub,
  sumAll,
} from '@diffedit/core';

const T = (dims: number[], values: number[]) => Tensor.from(dims, values);
const values = (t: Tensor) => Array.from(t.data);

describe('elementwise ops', () => {
  const a = T([2, 2], [1, -2, 3, -4]);
  const b = T([2, 2], [0.5, 0.5, 2, 4]);
  it('add/sub/mul/div/absDiff', () => {
    expect(values(add(a, b))).toEqual([1.5, -1.5, 5, 0]);
    expect(values(sub(a, b))).toEqual([0.5, -2.5, 1, -8]);
    expect(values(mul(a, b))).toEqual([0.5, -1, 6, -16]);
    expect(values(div(a, b))).toEqual([2, -4, 1.5, -1]);
    expect(values(absDiff(a, b))).toEqual([0.5, 2.5, 1, 8]);
  });
  it('scalar ops, abs, clamp, map', () => {
    expect(values(scale(a, 2))).toEqual([2, -4, 6, -8]);
    expect(values(addScalar(a, 1))).toEqual([2, -1, 4, -3]);
    expect(values(affine(a, 2, 1))).toEqual([3, -3, 7, -7]);
    expect(values(abs(a))).toEqual([1, 2, 3, 4]);
    expect(values(clamp(a, -2, 2))).toEqual([1, -2, 2, -2]);
    expect(values(mapElements(a, (v, i) => v * i))).toEqual([0, -2, 6, -12]);
    expect(() => clamp(a, 1, 0)).toThrow(/exceeds/);
  });
  it('axpy out-of-place, into out, and in place', () => {
    const y = T([2, 2], [10, 20, 30, 40]);
    const r = axpy(2, a, y);
    expect(values(r)).toEqual([12, 16, 36, 32]);
    expect(values(y)).toEqual([10, 20, 30, 40]);
    const out = new Tensor([2, 2]);
    expect(axpy(-1, a, y, out)).toBe(out);
    expect(values(out)).toEqual([9, 22, 27, 44]);
    expect(axpyInPlace(1, a, y)).toBe(y);
    expect(values(y)).toEqual([11, 18, 33, 36]);
    expect(values(linearCombination(2, a, -1, b))).toEqual([1.5, -4.5, 4, -12]);
  });
  it('out may alias an input', () => {
    const x = T([3], [1, 2, 3]);
    add(x, x, x);
    expect(values(x)).toEqual([2, 4, 6]);
  });
  it('shape mismatches are clear errors', () => {
    expect(() => add(a, T([4], [1, 2, 3, 4]))).toThrow(/add: shape mismatch \[2, 2\] vs \[4\]/);
    expect(() => scale(a, 2, new Tensor([3]))).toThrow(/scale|affine/);
  });
});

describe('maskedBlend', () => {
  const fg = T([2, 2, 1, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
  const bg = T([2, 2, 1, 2], [-1, -2, -3, -4, -5, -6, -7, -8]);
  it('full-shape mask', () => {
    const m = T([2, 2, 1, 2], [1, 0, 0.5, 1, 0, 0, 1, 1]);
    expect(values(maskedBlend(fg, m, bg))).toEqual([1, -2, 0, 4, -5, -6, 7, 8]);
  });
  it('(B,1,h,w) mask broadcast over channels', () => {
    const m = T([2, 1, 1, 2], [1, 0, 0, 1]);
    expect(values(maskedBlend(fg, m, bg))).toEqual([1, -2, 3, -4, -5, 6, -7, 8]);
  });
  it('(h,w) mask broadcast over batch and channels, in place into fg', () => {
    const x = fg.clone();
    maskedBlend(x, T([1, 2], [0, 1]), bg, x);
    expect(values(x)).toEqual([-1, 2, -3, 4, -5, 6, -7, 8]);
  });
  it('non-broadcastable mask is a clear error', () => {
    expect(() => maskedBlend(fg, T([3, 1, 1, 2], [0, 0, 0, 0, 0, 0]), bg)).toThrow(/does not broadcast/);
  });
});

describe('reductions', () => {
  const t = T([2, 3, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  it('sum/mean/min/max', () => {
    expect(sumAll(t)).toBe(78);
    expect(meanAll(t)).toBe(6.5);
    expect(minAll(t)).toBe(1);
    expect(maxAll(t)).toBe(12);
  });
  it('meanAxes over one or several axes, negative axes, keepDims', () => {
    expect(values(meanAxes(t, [0]))).toEqual([4, 5, 6, 7, 8, 9]);
    expect(meanAxes(t, [1]).dims).toEqual([2, 2]);
    expect(values(meanAxes(t, [1]))).toEqual([3, 4, 9, 10]);
    expect(values(meanAxes(t, [-1]))).toEqual([1.5, 3.5, 5.5, 7.5, 9.5, 11.5]);
    const k = meanAxes(t, [0, 2], true);
    expect(k.dims).toEqual([1, 3, 1]);
    expect(values(k)).toEqual([4.5, 6.5, 8.5]);
    expect(values(abs(meanAxes(scale(t, -1), [0, 1, 2])))).toEqual([6.5]);
    expect(() => meanAxes(t, [3])).toThrow(/axis 3/);
    expect(() => meanAxes(t, [0, 0])).toThrow(/repeated/);
  });
});
