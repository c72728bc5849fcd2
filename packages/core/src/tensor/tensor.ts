/** Checks that dims are non-negative integers and returns their product. */
export function sizeOfDims(dims: readonly number[], where = 'Tensor'): number {
  let size = 1;
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i];
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(
        `${where}: dimension ${i} must be a non-negative integer, got ${d} in [${dims.join(', ')}]`,
      );
    }
    size *= d;
  }
  return size;
}

/** Resolves one `-1` entry of a reshape target against a known element count. */
export function resolveReshape(dims: readonly number[], size: number, where: string): number[] {
  const out = [...dims];
  const free = out.indexOf(-1);
  if (free >= 0) {
    if (out.indexOf(-1, free + 1) >= 0) throw new RangeError(`${where}: at most one dimension may be -1`);
    out[free] = 1;
    const rest = sizeOfDims(out, where);
    if (rest === 0 || size % rest !== 0) {
      throw new RangeError(`${where}: cannot infer -1 in [${dims.join(', ')}] for ${size} elements`);
    }
    out[free] = size / rest;
  }
  if (sizeOfDims(out, where) !== size) {
    throw new RangeError(
      `${where}: [${dims.join(', ')}] holds ${sizeOfDims(out, where)} elements, need ${size}`,
    );
  }
  return out;
}

/**
 * A dense, row-major float32 tensor (NCHW for images/latents). `data` may be a view into a larger buffer
 * (see `reshape`, `batchView`), so code must use `data.length`, never `data.buffer.byteLength`.
 */
export class Tensor {
  readonly dims: readonly number[];
  readonly data: Float32Array;

  constructor(dims: readonly number[], data?: Float32Array) {
    const size = sizeOfDims(dims);
    if (data !== undefined) {
      if (!(data instanceof Float32Array)) throw new TypeError('Tensor: data must be a Float32Array');
      if (data.length !== size) {
        throw new RangeError(
          `Tensor: dims [${dims.join(', ')}] need ${size} elements, data has ${data.length}`,
        );
      }
    }
    this.dims = Object.freeze([...dims]);
    this.data = data ?? new Float32Array(size);
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  get byteLength(): number {
    return this.data.byteLength;
  }

  get rank(): number {
    return this.dims.length;
  }

  static zeros(dims: readonly number[]): Tensor {
    return new Tensor(dims);
  }

  static full(dims: readonly number[], value: number): Tensor {
    const t = new Tensor(dims);
    t.data.fill(value);
    return t;
  }

  /** Copies `values` (any numeric array-like, e.g. a Float64Array or number[]) into a new float32 tensor. */
  static from(dims: readonly number[], values: ArrayLike<number>): Tensor {
    const size = sizeOfDims(dims, 'Tensor.from');
    if (values.length !== size) {
      throw new RangeError(
        `Tensor.from: dims [${dims.join(', ')}] need ${size} elements, got ${values.length}`,
      );
    }
    return new Tensor(dims, Float32Array.from(values));
  }

  clone(): Tensor {
    return new Tensor(this.dims, this.data.slice());
  }

  /** A tensor with new dims over the SAME data (no copy). One entry may be -1. */
  reshape(dims: readonly number[]): Tensor {
    return new Tensor(resolveReshape(dims, this.size, 'Tensor.reshape'), this.data);
  }

  /** True when `other` has exactly the same dims. */
  sameShape(other: { readonly dims: readonly number[] }): boolean {
    return sameDims(this.dims, other.dims);
  }

  toString(): string {
    return `Tensor[${this.dims.join('×')}]`;
  }
}

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Throws a clear error when two tensors' dims differ. */
export function assertSameDims(
  a: { readonly dims: readonly number[] },
  b: { readonly dims: readonly number[] },
  where: string,
): void {
  if (!sameDims(a.dims, b.dims)) {
    throw new RangeError(`${where}: shape mismatch [${a.dims.join(', ')}] vs [${b.dims.join(', ')}]`);
  }
}
