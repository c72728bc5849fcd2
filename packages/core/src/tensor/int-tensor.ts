import { resolveReshape, sizeOfDims } from './tensor.js';

export type IntDType = 'int32' | 'int64';
export type IntData = Int32Array | BigInt64Array;

/**
 * A dense integer tensor for token ids and binary masks. `int64` data is a BigInt64Array (what onnxruntime and
 * diffusers' generate_mask use); `int32` is an Int32Array. Use `get`/`toNumbers` to read either as numbers.
 */
export class IntTensor {
  readonly dims: readonly number[];
  readonly data: IntData;

  constructor(dims: readonly number[], data: IntData) {
    const size = sizeOfDims(dims, 'IntTensor');
    if (!(data instanceof Int32Array) && !(data instanceof BigInt64Array)) {
      throw new TypeError('IntTensor: data must be an Int32Array or a BigInt64Array');
    }
    if (data.length !== size) {
      throw new RangeError(
        `IntTensor: dims [${dims.join(', ')}] need ${size} elements, data has ${data.length}`,
      );
    }
    this.dims = Object.freeze([...dims]);
    this.data = data;
  }

  get dtype(): IntDType {
    return this.data instanceof BigInt64Array ? 'int64' : 'int32';
  }

  get size(): number {
    return this.data.length;
  }

  get byteLength(): number {
    return this.data.byteLength;
  }

  static zeros(dims: readonly number[], dtype: IntDType = 'int64'): IntTensor {
    const n = sizeOfDims(dims, 'IntTensor.zeros');
    return new IntTensor(dims, dtype === 'int64' ? new BigInt64Array(n) : new Int32Array(n));
  }

  /** Copies integer values (numbers must be safe integers) into a new tensor of the given dtype. */
  static from(
    dims: readonly number[],
    values: ArrayLike<number | bigint>,
    dtype: IntDType = 'int64',
  ): IntTensor {
    const t = IntTensor.zeros(dims, dtype);
    if (values.length !== t.size) {
      throw new RangeError(
        `IntTensor.from: dims [${dims.join(', ')}] need ${t.size} elements, got ${values.length}`,
      );
    }
    for (let i = 0; i < values.length; i++) t.set(i, values[i]);
    return t;
  }

  get(index: number): number {
    return Number(this.data[index]);
  }

  set(index: number, value: number | bigint): void {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new RangeError(`IntTensor.set: ${value} at index ${index} is not an integer`);
    }
    if (this.data instanceof BigInt64Array) this.data[index] = BigInt(value);
    else this.data[index] = Number(value);
  }

  toNumbers(): number[] {
    return Array.from(this.data, Number);
  }

  /** The same values as the other integer dtype (a copy). */
  astype(dtype: IntDType): IntTensor {
    if (dtype === this.dtype) return new IntTensor(this.dims, this.data.slice());
    return IntTensor.from(this.dims, this.data, dtype);
  }

  /** A tensor with new dims over the SAME data (no copy). One entry may be -1. */
  reshape(dims: readonly number[]): IntTensor {
    return new IntTensor(resolveReshape(dims, this.size, 'IntTensor.reshape'), this.data);
  }

  clone(): IntTensor {
    return new IntTensor(this.dims, this.data.slice());
  }
}
