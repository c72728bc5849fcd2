import { Tensor, sameDims } from './tensor.js';

/** Elements in one batch row (everything after axis 0). */
function rowSize(t: Tensor): number {
  if (t.rank === 0) throw new RangeError(`${t}: a scalar has no batch axis`);
  return t.dims[0] === 0 ? 0 : t.size / t.dims[0];
}

/** Batch element `index` as a view (no copy) with dims [1, ...rest]; writes go through to `t`. */
export function batchView(t: Tensor, index: number): Tensor {
  return batchRange(t, index, index + 1);
}

/** Batch elements [start, end) as a view (no copy): row-major data makes any batch range contiguous. */
export function batchRange(t: Tensor, start: number, end: number): Tensor {
  const n = t.rank === 0 ? 0 : t.dims[0];
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
    throw new RangeError(`batchRange: [${start}, ${end}) is outside batch axis of size ${n} of ${t}`);
  }
  const row = rowSize(t);
  return new Tensor([end - start, ...t.dims.slice(1)], t.data.subarray(start * row, end * row));
}

/** Whether two shapes agree past axis 0 (the same rank, the same sizes). */
function sameTail(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 1; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** Concatenates along axis 0 into a new tensor (or into `out`). All other dims must match. */
export function concatBatch(tensors: readonly Tensor[], out?: Tensor): Tensor {
  if (tensors.length === 0) throw new RangeError('concatBatch: no tensors given');
  // the checks compare dims in place: a loop refills its [x; x] buffer through here every step
  const first = tensors[0].dims;
  const rest = (): number[] => first.slice(1);
  let total = 0;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    if (t.rank === 0 || !sameTail(t.dims, first)) {
      throw new RangeError(`concatBatch: tensor ${i} ${t} does not match [*, ${rest().join(', ')}]`);
    }
    total += t.dims[0];
  }
  const result = out ?? new Tensor([total, ...rest()]);
  if (result.dims[0] !== total || !sameTail(result.dims, first)) {
    throw new RangeError(`concatBatch: out is ${result}, expected [${[total, ...rest()].join(', ')}]`);
  }
  let offset = 0;
  for (const t of tensors) {
    result.data.set(t.data, offset);
    offset += t.size;
  }
  return result;
}

/**
 * Splits along axis 0 into views (no copy): `parts` is either a count of equal parts or the list of sizes.
 */
export function splitBatch(t: Tensor, parts: number | readonly number[]): Tensor[] {
  const n = t.rank === 0 ? 0 : t.dims[0];
  let sizes: readonly number[];
  if (typeof parts === 'number') {
    if (!Number.isInteger(parts) || parts <= 0 || n % parts !== 0) {
      throw new RangeError(`splitBatch: cannot split batch of ${n} of ${t} into ${parts} equal parts`);
    }
    sizes = new Array<number>(parts).fill(n / parts);
  } else {
    sizes = parts;
    if (sizes.reduce((a, b) => a + b, 0) !== n) {
      throw new RangeError(`splitBatch: sizes [${sizes.join(', ')}] do not add up to the batch ${n} of ${t}`);
    }
  }
  const out: Tensor[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(batchRange(t, start, start + s));
    start += s;
  }
  return out;
}

/** Stacks equally shaped tensors along a new leading axis (a copy). */
export function stack(tensors: readonly Tensor[]): Tensor {
  if (tensors.length === 0) throw new RangeError('stack: no tensors given');
  const dims = tensors[0].dims;
  for (const [i, t] of tensors.entries()) {
    if (!sameDims(t.dims, dims)) throw new RangeError(`stack: tensor ${i} ${t} differs from ${tensors[0]}`);
  }
  return concatBatch(tensors.map((t) => t.reshape([1, ...dims])));
}

/** Repeats each batch row `times` times consecutively ([a, b] → [a, a, b, b]), torch repeat_interleave(dim=0). */
export function repeatInterleaveBatch(t: Tensor, times: number): Tensor {
  if (!Number.isInteger(times) || times < 1) throw new RangeError(`repeatInterleaveBatch: times must be ≥ 1`);
  const row = rowSize(t);
  const out = new Tensor([t.dims[0] * times, ...t.dims.slice(1)]);
  for (let b = 0; b < t.dims[0]; b++) {
    const src = t.data.subarray(b * row, (b + 1) * row);
    for (let r = 0; r < times; r++) out.data.set(src, (b * times + r) * row);
  }
  return out;
}

/** Tiles the whole batch `times` times ([a, b] → [a, b, a, b]), torch cat([t] * times). */
export function tileBatch(t: Tensor, times: number): Tensor {
  if (!Number.isInteger(times) || times < 1) throw new RangeError(`tileBatch: times must be ≥ 1`);
  return concatBatch(new Array<Tensor>(times).fill(t));
}

/** General axis permutation (a copy): out.dims[i] = t.dims[perm[i]]. */
export function transpose(t: Tensor, perm: readonly number[]): Tensor {
  const rank = t.rank;
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new RangeError(`transpose: [${perm.join(', ')}] is not a permutation of the ${rank} axes of ${t}`);
  }
  const inStrides = stridesOf(t.dims);
  const outDims = perm.map((p) => t.dims[p]);
  const out = new Tensor(outDims);
  if (out.size === 0) return out;
  const strideForOut = perm.map((p) => inStrides[p]);
  // trailing axes the permutation leaves in place form contiguous blocks: copy those whole
  let kept = rank;
  while (kept > 0 && perm[kept - 1] === kept - 1) kept--;
  if (kept < rank && kept > 0) {
    const block = inStrides[kept - 1];
    const outer = outDims.slice(0, kept);
    const at = new Array<number>(kept).fill(0);
    for (let o = 0; ; o += block) {
      let base = 0;
      for (let a = 0; a < kept; a++) base += at[a] * strideForOut[a];
      out.data.set(t.data.subarray(base, base + block), o);
      let a = kept - 1;
      while (a >= 0) {
        if (++at[a] < outer[a]) break;
        at[a] = 0;
        a--;
      }
      if (a < 0) return out;
    }
  }
  const idx = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const src = t.data;
  const dst = out.data;
  const innerLen = rank === 0 ? 1 : outDims[last];
  const innerStride = rank === 0 ? 0 : strideForOut[last];
  let o = 0;
  for (;;) {
    let base = 0;
    for (let a = 0; a < last; a++) base += idx[a] * strideForOut[a];
    for (let k = 0; k < innerLen; k++) dst[o++] = src[base + k * innerStride];
    // Odometer over all but the innermost axis.
    let a = last - 1;
    while (a >= 0) {
      if (++idx[a] < outDims[a]) break;
      idx[a] = 0;
      a--;
    }
    if (a < 0) break;
  }
  return out;
}

/** Row-major strides of dims. */
export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

/** NCHW → NHWC (a copy). */
export function nchwToNhwc(t: Tensor): Tensor {
  if (t.rank !== 4) throw new RangeError(`nchwToNhwc: expected a 4-D tensor, got ${t}`);
  return transpose(t, [0, 2, 3, 1]);
}

/** NHWC → NCHW (a copy). */
export function nhwcToNchw(t: Tensor): Tensor {
  if (t.rank !== 4) throw new RangeError(`nhwcToNchw: expected a 4-D tensor, got ${t}`);
  return transpose(t, [0, 3, 1, 2]);
}
