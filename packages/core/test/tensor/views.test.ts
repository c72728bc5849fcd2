import { describe, expect, it } from 'vitest';
import {
  Tensor,
  batchRange,
  batchView,
  concatBatch,
  nchwToNhwc,
  nhwcToNchw,
  repeatInterleaveBatch,
  splitBatch,
  stack,
  tileBatch,
  transpose,
} from '@diffedit/core';

const seq = (dims: number[]) =>
  Tensor.from(
    dims,
    Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => i),
  );
const values = (t: Tensor) => Array.from(t.data);

describe('batch views', () => {
  const t = seq([3, 2, 2]);
  it('batchView / batchRange are views sharing memory', () => {
    const v = batchView(t, 1);
    expect(v.dims).toEqual([1, 2, 2]);
    expect(values(v)).toEqual([4, 5, 6, 7]);
    v.data[0] = -1;
    expect(t.data[4]).toBe(-1);
    expect(v.data.buffer).toBe(t.data.buffer);
    const r = batchRange(t, 1, 3);
    expect(r.dims).toEqual([2, 2, 2]);
    expect(r.data.byteOffset).toBe(16);
    expect(() => batchRange(t, 2, 4)).toThrow(/outside batch axis of size 3/);
    t.data[4] = 4;
  });
  it('concat and split along the batch axis', () => {
    const c = concatBatch([seq([1, 2]), Tensor.from([2, 2], [9, 8, 7, 6])]);
    expect(c.dims).toEqual([3, 2]);
    expect(values(c)).toEqual([0, 1, 9, 8, 7, 6]);
    const [a, b] = splitBatch(c, [1, 2]);
    expect(values(a)).toEqual([0, 1]);
    expect(values(b)).toEqual([9, 8, 7, 6]);
    expect(splitBatch(seq([4, 1]), 2).map(values)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(() => concatBatch([seq([1, 2]), seq([1, 3])])).toThrow(/does not match/);
    expect(() => splitBatch(c, 2)).toThrow(/equal parts/);
    const out = new Tensor([3, 2]);
    expect(concatBatch([seq([1, 2]), seq([2, 2])], out)).toBe(out);
  });
  it('stack, repeatInterleave, tile', () => {
    const s = stack([seq([2]), Tensor.from([2], [5, 6])]);
    expect(s.dims).toEqual([2, 2]);
    expect(values(s)).toEqual([0, 1, 5, 6]);
    expect(values(repeatInterleaveBatch(seq([2, 1]), 3))).toEqual([0, 0, 0, 1, 1, 1]);
    expect(values(tileBatch(seq([2, 1]), 2))).toEqual([0, 1, 0, 1]);
  });
});

describe('layout changes', () => {
  it('NCHW ↔ NHWC by hand', () => {
    // N=1, C=2, H=2, W=2: channel 0 = 0..3, channel 1 = 4..7.
    const nchw = seq([1, 2, 2, 2]);
    const nhwc = nchwToNhwc(nchw);
    expect(nhwc.dims).toEqual([1, 2, 2, 2]);
    expect(values(nhwc)).toEqual([0, 4, 1, 5, 2, 6, 3, 7]);
    expect(values(nhwcToNchw(nhwc))).toEqual(values(nchw));
    const rgb = seq([1, 3, 1, 2]);
    expect(values(nchwToNhwc(rgb))).toEqual([0, 2, 4, 1, 3, 5]);
  });
  it('general transpose', () => {
    const t = seq([2, 3]);
    expect(transpose(t, [1, 0]).dims).toEqual([3, 2]);
    expect(values(transpose(t, [1, 0]))).toEqual([0, 3, 1, 4, 2, 5]);
    expect(() => transpose(t, [0, 0])).toThrow(/not a permutation/);
  });
  it('transpose moves every element where the index formula says, with trailing axes kept in place or not', () => {
    const dims = [3, 2, 2, 3, 4];
    const t = seq(dims);
    const strides = [48, 24, 12, 4, 1];
    for (const perm of [
      [1, 0, 2, 3, 4], // step-major ↔ batch-major latents: blocks of 2·3·4 … copied whole
      [0, 2, 1, 3, 4],
      [2, 0, 1, 3, 4],
      [0, 1, 2, 4, 3], // nothing kept in place at the end: element by element
      [4, 3, 2, 1, 0],
    ]) {
      const out = transpose(t, perm);
      const outDims = perm.map((p) => dims[p]);
      expect(out.dims).toEqual(outDims);
      const expected: number[] = [];
      const idx = [0, 0, 0, 0, 0];
      for (let o = 0; o < t.size; o++) {
        expected.push(perm.reduce((src, p, a) => src + idx[a] * strides[p], 0));
        for (let a = 4; a >= 0 && ++idx[a] === outDims[a]; a--) idx[a] = 0;
      }
      expect(values(out)).toEqual(expected);
    }
  });
});
