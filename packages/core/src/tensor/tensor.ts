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

/** float32(k / 255) for k = 0…255: the value of an 8-bit level. */
const LEVEL_VALUES = Float32Array.from({ length: 256 }, (_, k) => k / 255);

/** Noted byte levels of float arrays (see byte-levels.ts); set there, read here without an import cycle. */
export const notedLevels = new WeakMap<Float32Array, Uint8Array>();

/**
 * A dense, row-major float32 tensor (NCHW for images/latents). `data` may be a view into a larger buffer
 * (see `reshape`, `batchView`), so code must use `data.length`, never `data.buffer.byteLength`.
 *
 * A tensor made from 8-bit levels (`Tensor.ofByteLevels`: loaded images, masks shown as images, grids) holds
 * only the bytes until `data` is first read: consumers that can work on the bytes (`byteLevels`: saving,
 * tiling, the output cache) never pay for the float copy. Values never change after they are produced (a node
 * must not modify its inputs), so the bytes stay true.
 */
export class Tensor {
  readonly dims: readonly number[];
  private floats: Float32Array | undefined;
  private readonly levels: Uint8Array | undefined;

  constructor(dims: readonly number[], data?: Float32Array, levels?: Uint8Array) {
    const size = sizeOfDims(dims);
    if (data !== undefined) {
      if (!(data instanceof Float32Array)) throw new TypeError('Tensor: data must be a Float32Array');
      if (data.length !== size) {
        throw new RangeError(
          `Tensor: dims [${dims.join(', ')}] need ${size} elements, data has ${data.length}`,
        );
      }
    }
    if (levels !== undefined && levels.length !== size) {
      throw new RangeError(`Tensor: dims [${dims.join(', ')}] need ${size} levels, got ${levels.length}`);
    }
    this.dims = Object.freeze([...dims]);
    this.levels = levels;
    this.floats = data ?? (levels === undefined ? new Float32Array(size) : undefined);
  }

  /**
   * A tensor whose values are the 8-bit levels float32(bytes[i] / 255); the floats are computed on first
   * read of `data`. The bytes are kept as they are (not copied).
   */
  static ofByteLevels(dims: readonly number[], bytes: Uint8Array): Tensor {
    return new Tensor(dims, undefined, bytes);
  }

  /** The float32 values (computed from the byte levels on first read for a tensor made from them). */
  get data(): Float32Array {
    return this.floats ?? this.floatsOfLevels();
  }

  /** The 8-bit levels of the values when known without a scan (made from bytes, or noted), else undefined. */
  get byteLevels(): Uint8Array | undefined {
    return this.levels ?? (this.floats === undefined ? undefined : notedLevels.get(this.floats));
  }

  private floatsOfLevels(): Float32Array {
    const bytes = this.levels as Uint8Array;
    const out = new Float32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = LEVEL_VALUES[bytes[i]];
    notedLevels.set(out, bytes);
    this.floats = out;
    return out;
  }

  /** Number of elements. */
  get size(): number {
    return (this.floats ?? (this.levels as Uint8Array)).length;
  }

  get byteLength(): number {
    return this.size * Float32Array.BYTES_PER_ELEMENT;
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
