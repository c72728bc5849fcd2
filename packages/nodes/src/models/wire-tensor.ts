import { Tensor, fromFloat16Bits, toFloat16Bits } from '@diffedit/core';

/** Element types the model layer exchanges with onnxruntime (float16 travels as raw bits). */
export type WireDType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';

export type WireData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/**
 * A plain tensor that crosses the worker boundary as-is (its buffer is transferred, not copied) and maps one to
 * one onto an onnxruntime tensor. Model classes build these from @diffedit/core tensors at the boundary.
 */
export interface WireTensor {
  readonly type: WireDType;
  readonly dims: readonly number[];
  readonly data: WireData;
}

export type WireFeeds = Record<string, WireTensor>;

export function wireTensor(type: WireDType, dims: readonly number[], data: WireData): WireTensor {
  let size = 1;
  for (const d of dims) size *= d;
  if (size !== data.length) {
    throw new RangeError(
      `wire tensor ${type} [${dims.join(', ')}] needs ${size} elements, got ${data.length}`,
    );
  }
  return { type, dims: [...dims], data };
}

/**
 * Float values as the dtype a model input declares. `copy` forces a fresh buffer for float32 too, which the
 * worker mode needs because it transfers (detaches) every buffer it sends.
 */
export function floatFeed(
  type: WireDType,
  dims: readonly number[],
  values: Float32Array,
  copy: boolean,
): WireTensor {
  switch (type) {
    case 'float32':
      return wireTensor(type, dims, copy ? values.slice() : values);
    case 'float16':
      return wireTensor(type, dims, toFloat16Bits(values));
    default:
      throw new TypeError(`expected a float input type, the model declares ${type}`);
  }
}

/** Integer values (token ids, timesteps) as the int or float dtype a model input declares. */
export function numberFeed(type: WireDType, dims: readonly number[], values: ArrayLike<number>): WireTensor {
  switch (type) {
    case 'int64':
      return wireTensor(
        type,
        dims,
        BigInt64Array.from(Array.from(values), (v) => BigInt(Math.round(v))),
      );
    case 'int32':
      return wireTensor(type, dims, Int32Array.from(values));
    case 'float32':
      return wireTensor(type, dims, Float32Array.from(values));
    case 'float16':
      return wireTensor(type, dims, toFloat16Bits(values));
    case 'bool':
      return wireTensor(
        type,
        dims,
        Uint8Array.from(values, (v) => (v ? 1 : 0)),
      );
  }
}

/** Any numeric wire tensor as float32 values (float16 decoded, ints converted). */
export function wireToFloat32(t: WireTensor): Float32Array {
  switch (t.type) {
    case 'float32':
      return t.data as Float32Array;
    case 'float16':
      return fromFloat16Bits(t.data as Uint16Array);
    case 'int64':
      return Float32Array.from(t.data as BigInt64Array, Number);
    default:
      return Float32Array.from(t.data as Int32Array | Uint8Array);
  }
}

export function wireToTensor(t: WireTensor): Tensor {
  return new Tensor(t.dims, wireToFloat32(t));
}
