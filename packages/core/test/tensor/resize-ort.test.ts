import { describe, expect, it } from 'vitest';
import {
  IntTensor,
  Tensor,
  float16BitsToNumber,
  intTensorFromOrt,
  intTensorToOrt,
  numberToFloat16Bits,
  resizeArea,
  resizeBilinear,
  resizeNearest,
  tensorFromOrt,
  tensorToOrt,
} from '@diffedit/core';

const values = (t: Tensor) => Array.from(t.data);

describe('resize (torch interpolate semantics)', () => {
  const t = Tensor.from([1, 1, 2, 2], [1, 2, 3, 4]);
  it('nearest upscale ×2 and downscale', () => {
    expect(values(resizeNearest(t, 4, 4))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    const big = Tensor.from(
      [1, 1, 4, 4],
      Array.from({ length: 16 }, (_, i) => i),
    );
    expect(values(resizeNearest(big, 2, 2))).toEqual([0, 2, 8, 10]);
    // 3 → 2: src = floor(dst·1.5) = 0, 1
    const three = Tensor.from([1, 1, 1, 3], [5, 6, 7]);
    expect(values(resizeNearest(three, 1, 2))).toEqual([5, 6]);
  });
  it('bilinear ×2, half-pixel centres (torch align_corners=False)', () => {
    // torch.nn.functional.interpolate([[1,2],[3,4]], size=4, mode='bilinear') first row:
    // [1.0, 1.25, 1.75, 2.0]
    const r = resizeBilinear(t, 4, 4);
    expect(values(r).slice(0, 4)).toEqual([1, 1.25, 1.75, 2]);
    expect(values(r).slice(4, 8)).toEqual([1.5, 1.75, 2.25, 2.5]);
    expect(values(resizeBilinear(t, 3, 3, true))).toEqual([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
  });
  it('area downscale averages blocks', () => {
    const big = Tensor.from([1, 1, 2, 4], [1, 3, 5, 7, 2, 4, 6, 8]);
    expect(values(resizeArea(big, 1, 2))).toEqual([2.5, 6.5]);
  });
  it('rejects non-NCHW input and bad sizes', () => {
    expect(() => resizeNearest(Tensor.zeros([2, 2]), 1, 1)).toThrow(/NCHW/);
    expect(() => resizeBilinear(t, 0, 1)).toThrow(/positive integers/);
  });
});

describe('onnxruntime interop (structural)', () => {
  it('float32 in and out without copies', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const ortLike = { type: 'float32', dims: [1, 2, 3] as const, data };
    const t = tensorFromOrt(ortLike);
    expect(t.data).toBe(data);
    expect(t.dims).toEqual([1, 2, 3]);
    const back = tensorToOrt(t);
    expect(back.type).toBe('float32');
    expect(back.data).toBe(data);
    expect(back.dims).toEqual([1, 2, 3]);
  });
  it('float16 bits convert both ways (round to nearest even, subnormals, infinities)', () => {
    expect(numberToFloat16Bits(1)).toBe(0x3c00);
    expect(numberToFloat16Bits(-2)).toBe(0xc000);
    expect(numberToFloat16Bits(65504)).toBe(0x7bff);
    expect(numberToFloat16Bits(1e6)).toBe(0x7c00);
    expect(numberToFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(numberToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(numberToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(float16BitsToNumber(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(float16BitsToNumber(0x0001)).toBe(2 ** -24);
    expect(float16BitsToNumber(0xfc00)).toBe(-Infinity);
    for (let h = 0; h < 0x7c00; h += 97) expect(numberToFloat16Bits(float16BitsToNumber(h))).toBe(h);
    const t = Tensor.from([3], [0.5, -1.5, 0.1]);
    const half = tensorToOrt(t, 'float16');
    expect(half.type).toBe('float16');
    expect(half.data).toBeInstanceOf(Uint16Array);
    const back = tensorFromOrt(half);
    expect(Array.from(back.data)).toEqual([0.5, -1.5, float16BitsToNumber(numberToFloat16Bits(0.1))]);
  });
  it('int64 / int32 tensors without copies; wrong types are clear errors', () => {
    const ids = new BigInt64Array([49406n, 320n, 49407n]);
    const it64 = intTensorFromOrt({ type: 'int64', dims: [1, 3], data: ids });
    expect(it64.data).toBe(ids);
    expect(it64.toNumbers()).toEqual([49406, 320, 49407]);
    expect(intTensorToOrt(it64)).toEqual({ type: 'int64', dims: [1, 3], data: ids });
    expect(intTensorToOrt(IntTensor.from([1], [3], 'int32')).type).toBe('int32');
    expect(() => tensorFromOrt({ type: 'int64', dims: [3], data: ids }, 'unet output')).toThrow(
      /unet output: expected a float32\/float16\/float64 tensor, got int64/,
    );
    expect(() => tensorFromOrt({ type: 'float32', dims: [4], data: new Float32Array(3) })).toThrow(
      /need 4 elements/,
    );
    expect(() => intTensorFromOrt({ type: 'float32', dims: [1], data: new Float32Array(1) })).toThrow(
      /int64\/int32/,
    );
  });
});
