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

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bits → number. */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number → IEEE half-precision bits, rounding to nearest even (overflow → ±Infinity). */
export function numberToFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let r = mant >>> shift;
    if (rest > half || (rest === half && (r & 1) === 1)) r++;
    return sign | r;
  }
  const rest = mant & 0x1fff;
  mant >>>= 13;
  if (rest > 0x1000 || (rest === 0x1000 && (mant & 1) === 1)) {
    mant++;
    if (mant === 0x400) {
      mant = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | mant;
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
      checkLength(data, size, where);
      const out = new Float32Array(size);
      for (let i = 0; i < size; i++) out[i] = float16BitsToNumber(data[i]);
      return new Tensor(t.dims, out);
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
  const bits = new Uint16Array(t.size);
  for (let i = 0; i < bits.length; i++) bits[i] = numberToFloat16Bits(t.data[i]);
  return { type, dims: [...t.dims], data: bits };
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
