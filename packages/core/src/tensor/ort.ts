import { fromFloat16Bits, toFloat16Bits } from './float16.js';
import { IntTensor } from './int-tensor.js';
import { Tensor, sizeOfDims } from './tensor.js';

/**
 * The structural shape of an onnxruntime-common Tensor (`ort.Tensor` satisfies it). Core never imports
 * onnxruntime; callers pass ort tensors in and build `new ort.Tensor(x.type, x.data, x.dims)` from results.
 */
export interface OrtTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

export type OrtFloatType = 'float32' | 'float16';

export interface OrtFloat32Tensor {
  readonly type: 'float32';
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export interface OrtFloat16Tensor {
  readonly type: 'float16';
  readonly dims: readonly number[];
  readonly data: Uint16Array;
}

export interface OrtIntTensor {
  readonly type: 'int64' | 'int32';
  readonly dims: readonly number[];
  readonly data: BigInt64Array | Int32Array;
}

/**
 * A float tensor from an onnxruntime tensor. float32 data is wrapped WITHOUT a copy (the result shares the
 * ort tensor's memory); float16 (raw Uint16Array bits or a Float16Array) and float64 are converted.
 */
export function tensorFromOrt(t: OrtTensorLike, where = 'onnxruntime tensor'): Tensor {
  const size = sizeOfDims(t.dims, where);
  const data = t.data;
  if (t.type === 'float32' && data instanceof Float32Array) {
    return new Tensor(t.dims, data.length === size ? data : checkLength(data, size, where));
  }
  if (t.type === 'float16') {
    if (data instanceof Uint16Array) {
      return new Tensor(t.dims, fromFloat16Bits(checkLength(data, size, where)));
    }
    if (isNumericArrayLike(data))
      return new Tensor(t.dims, Float32Array.from(checkLength(data, size, where)));
  }
  if (t.type === 'float64' && data instanceof Float64Array) {
    return new Tensor(t.dims, Float32Array.from(checkLength(data, size, where)));
  }
  throw new TypeError(`${where}: expected a float32/float16/float64 tensor, got ${t.type}`);
}

/** An integer tensor from an onnxruntime int64/int32 tensor, without a copy. */
export function intTensorFromOrt(t: OrtTensorLike, where = 'onnxruntime tensor'): IntTensor {
  const size = sizeOfDims(t.dims, where);
  if (
    (t.type === 'int64' && t.data instanceof BigInt64Array) ||
    (t.type === 'int32' && t.data instanceof Int32Array)
  ) {
    return new IntTensor(t.dims, checkLength(t.data, size, where));
  }
  throw new TypeError(`${where}: expected an int64/int32 tensor, got ${t.type}`);
}

/** The ort-shaped view of a tensor: float32 shares `data` (no copy); float16 converts to raw bits. */
export function tensorToOrt(t: Tensor): OrtFloat32Tensor;
export function tensorToOrt(t: Tensor, type: 'float32'): OrtFloat32Tensor;
export function tensorToOrt(t: Tensor, type: 'float16'): OrtFloat16Tensor;
export function tensorToOrt(t: Tensor, type: OrtFloatType = 'float32'): OrtFloat32Tensor | OrtFloat16Tensor {
  if (type === 'float32') return { type, dims: [...t.dims], data: t.data };
  return { type, dims: [...t.dims], data: toFloat16Bits(t.data) };
}

/** The ort-shaped view of an integer tensor (no copy). */
export function intTensorToOrt(t: IntTensor): OrtIntTensor {
  return t.data instanceof BigInt64Array
    ? { type: 'int64', dims: [...t.dims], data: t.data }
    : { type: 'int32', dims: [...t.dims], data: t.data };
}

function isNumericArrayLike(v: unknown): v is ArrayLike<number> {
  return (
    ArrayBuffer.isView(v) &&
    !(v instanceof DataView) &&
    !(v instanceof BigInt64Array) &&
    !(v instanceof BigUint64Array)
  );
}

function checkLength<T extends { length: number }>(data: T, size: number, where: string): T {
  if (data.length !== size)
    throw new RangeError(`${where}: dims need ${size} elements, data has ${data.length}`);
  return data;
}
