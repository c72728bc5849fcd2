import { describe, expect, it } from 'vitest';
// Core never imports onnxruntime; this test checks that the structural types line up with the real class
// (onnxruntime-common comes with onnxruntime-node, a dependency of @diffedit/nodes).
import { Tensor as OrtTensor } from 'onnxruntime-common';
import {
  IntTensor,
  Tensor,
  intTensorFromOrt,
  intTensorToOrt,
  tensorFromOrt,
  tensorToOrt,
} from '@diffedit/core';

describe('interop with onnxruntime-common Tensor', () => {
  it('float32: ort → core → ort shares one buffer', () => {
    const ort = new OrtTensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]);
    const t = tensorFromOrt(ort);
    expect(t.data).toBe(ort.data);
    const o = tensorToOrt(t);
    const back = new OrtTensor(o.type, o.data, o.dims);
    expect(back.data).toBe(ort.data);
    expect(back.dims).toEqual([1, 4]);
  });
  it('float16 and int64 round trips', () => {
    const t = Tensor.from([2], [0.25, -3]);
    const h = tensorToOrt(t, 'float16');
    const ortHalf = new OrtTensor(h.type, h.data, h.dims);
    expect(Array.from(tensorFromOrt(ortHalf).data)).toEqual([0.25, -3]);
    const ids = intTensorToOrt(IntTensor.from([1, 2], [49406, 49407]));
    const ortIds = new OrtTensor(ids.type, ids.data, ids.dims);
    expect(intTensorFromOrt(ortIds).toNumbers()).toEqual([49406, 49407]);
  });
});
