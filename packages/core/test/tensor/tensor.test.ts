import { describe, expect, it } from 'vitest';
import { IntTensor, Tensor } from '@diffedit/core';

describe('Tensor', () => {
  it('constructs zeros, checks data length and dims', () => {
    const t = new Tensor([2, 3]);
    expect(t.dims).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect(t.byteLength).toBe(24);
    expect(t.rank).toBe(2);
    expect(Array.from(t.data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => new Tensor([2, 3], new Float32Array(5))).toThrow(/need 6 elements, data has 5/);
    expect(() => new Tensor([2, -1])).toThrow(/dimension 1 must be a non-negative integer/);
    expect(() => new Tensor([1.5])).toThrow(/non-negative integer/);
  });
  it('wraps the given Float32Array without copying', () => {
    const d = new Float32Array(4);
    const t = new Tensor([4], d);
    d[2] = 7;
    expect(t.data[2]).toBe(7);
  });
  it('dims are frozen copies', () => {
    const dims = [1, 2];
    const t = new Tensor(dims);
    dims[0] = 5;
    expect(t.dims).toEqual([1, 2]);
    expect(Object.isFrozen(t.dims)).toBe(true);
  });
  it('from copies any numeric array-like (rounding to float32); full; zeros', () => {
    const src = Float64Array.from([0.1, 2]);
    const t = Tensor.from([2], src);
    src[0] = 9;
    expect(t.data[0]).toBe(Math.fround(0.1));
    expect(() => Tensor.from([3], [1, 2])).toThrow(/need 3 elements, got 2/);
    expect(Array.from(Tensor.full([2], 1.5).data)).toEqual([1.5, 1.5]);
    expect(Tensor.zeros([0, 3]).size).toBe(0);
  });
  it('clone copies, reshape shares data and infers -1', () => {
    const t = Tensor.from([2, 3], [1, 2, 3, 4, 5, 6]);
    const c = t.clone();
    c.data[0] = 100;
    expect(t.data[0]).toBe(1);
    const r = t.reshape([3, -1]);
    expect(r.dims).toEqual([3, 2]);
    r.data[5] = 60;
    expect(t.data[5]).toBe(60);
    expect(() => t.reshape([4, 2])).toThrow(/holds 8 elements, need 6/);
    expect(() => t.reshape([-1, -1])).toThrow(/at most one/);
    expect(() => t.reshape([4, -1])).toThrow(/cannot infer/);
  });
});

describe('IntTensor', () => {
  it('int64 (BigInt64Array) and int32 storage with number accessors', () => {
    const a = IntTensor.from([2, 2], [1, 0, 0, 1]);
    expect(a.dtype).toBe('int64');
    expect(a.data).toBeInstanceOf(BigInt64Array);
    expect(a.toNumbers()).toEqual([1, 0, 0, 1]);
    const b = a.astype('int32');
    expect(b.data).toBeInstanceOf(Int32Array);
    expect(b.get(3)).toBe(1);
    expect(b.astype('int64').data).toEqual(a.data);
    expect(() => IntTensor.from([1], [0.5])).toThrow(/not an integer/);
    expect(() => new IntTensor([3], new Int32Array(2))).toThrow(/need 3 elements/);
    expect(IntTensor.zeros([3], 'int32').reshape([1, -1]).dims).toEqual([1, 3]);
  });
});
