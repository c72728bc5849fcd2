import { Tensor } from '../tensor/tensor.js';
import type { PredictionType } from './config.js';

/** Scheduler maths accept float32 (product) or float64 (reference tests) arrays, or Tensors. */
export type FloatArray = Float32Array | Float64Array;
export type StepValue = Tensor | FloatArray;

export interface SchedulerOutput<V extends StepValue> {
  /** The sample at the next level (x_{t−ratio} for DDIM, x_t for the inverse step). */
  prevSample: V;
  /** The model's estimate of the clean sample x̂0 (after clipping/thresholding). */
  predOriginalSample: V;
}

export function dataOf(v: StepValue): FloatArray {
  return v instanceof Tensor ? v.data : v;
}

export function describeStepValue(v: StepValue): string {
  return v instanceof Tensor ? `${v}` : `${v.constructor.name}(${v.length})`;
}

/** A new value shaped like `like` (same kind: Tensor or the same typed array class). */
export function allocLike<V extends StepValue>(like: V): V {
  if (like instanceof Tensor) return new Tensor(like.dims) as V;
  return (like instanceof Float64Array ? new Float64Array(like.length) : new Float32Array(like.length)) as V;
}

/** Checks that `v` has `n` elements and returns its array. */
export function checkLength(v: StepValue, n: number, what: string, where: string): FloatArray {
  const d = dataOf(v);
  if (d.length !== n)
    throw new RangeError(`${where}: ${what} ${describeStepValue(v)} has ${d.length} elements, expected ${n}`);
  return d;
}

/** Number of batch rows for per-sample reductions (dynamic thresholding): dims[0] of a Tensor, else 1. */
export function batchRows(v: StepValue): number {
  return v instanceof Tensor && v.rank > 0 ? v.dims[0] : 1;
}

/**
 * x̂0 from (x, out), clipped to ±clipRange when clipRange is finite; writes into x0 (may not alias inputs).
 * Computed as in diffusers: (x − √b·out)/√a for epsilon, so the result matches to a few ulps.
 */
export function predictOriginal(
  predictionType: PredictionType,
  a: number,
  out: FloatArray,
  x: FloatArray,
  x0: FloatArray,
  clipRange: number,
): void {
  const sa = Math.sqrt(a);
  const sb = Math.sqrt(1 - a);
  const n = x0.length;
  if (predictionType === 'epsilon') for (let i = 0; i < n; i++) x0[i] = (x[i] - sb * out[i]) / sa;
  else if (predictionType === 'sample') for (let i = 0; i < n; i++) x0[i] = out[i];
  else for (let i = 0; i < n; i++) x0[i] = sa * x[i] - sb * out[i];
  if (clipRange !== Infinity) {
    for (let i = 0; i < n; i++)
      x0[i] = x0[i] < -clipRange ? -clipRange : x0[i] > clipRange ? clipRange : x0[i];
  }
}

// float32 bits of a clip range, and the int32 views of x̂0 buffers, kept while the buffer lives (loops reuse
// one x̂0 buffer for every step: no view made per step)
const f32 = new Float32Array(1);
const f32Bits = new Int32Array(f32.buffer);
const bitViews = new WeakMap<Float32Array, Int32Array>();

function bitsView(a: Float32Array): Int32Array {
  let view = bitViews.get(a);
  if (view === undefined) {
    view = new Int32Array(a.buffer, a.byteOffset, a.length);
    bitViews.set(a, view);
  }
  return view;
}

/**
 * The coefficients of epsilonStep for one scheduler step: x̂0 = (x − sb·o)/sa clipped to ±clipRange (Infinity:
 * no clip), out = c1·x̂0 + c2·o.
 */
export interface EpsilonStepCoefficients {
  readonly sa: number;
  readonly sb: number;
  readonly c1: number;
  readonly c2: number;
  readonly clipRange: number;
}

/**
 * The ε-prediction step of DDIM and DDIM-inverse in one pass, what predictOriginal then the step's second pass
 * give: x̂0 = (x − sb·o)/sa stored in `x0` (rounded as its array holds it), clipped to ±clipRange as
 * predictOriginal clips it, then out = c1·x̂0 + c2·o with x̂0 read back as stored. `out` may be `x` or `o`.
 *
 * Float32 arrays (the product's): the clip compares the stored value's bits with the range's (|x̂0| above the
 * range takes the range with x̂0's sign; NaN stays): the comparisons' result — a float32 beyond ±clipRange is
 * beyond ±float32(clipRange) or equal to it — without a branch the data decides (on the bench workflow 13 % of
 * the values clip, scattered, in 71 of 80 steps: mispredicted branches there, a second pass when flagged, both
 * cost more than the bit select).
 */
export function epsilonStep(
  x: FloatArray,
  o: FloatArray,
  out: FloatArray,
  x0: FloatArray,
  sa: number,
  sb: number,
  c1: number,
  c2: number,
  clipRange: number,
): void {
  const n = x0.length;
  const r = clipRange;
  if (!(x0 instanceof Float32Array) || !(r >= 0)) {
    for (let i = 0; i < n; i++) {
      x0[i] = (x[i] - sb * o[i]) / sa;
      const v = x0[i];
      if (v < -r) x0[i] = -r;
      else if (v > r) x0[i] = r;
      out[i] = c1 * x0[i] + c2 * o[i];
    }
    return;
  }
  if (r === Infinity) {
    for (let i = 0; i < n; i++) {
      x0[i] = (x[i] - sb * o[i]) / sa;
      out[i] = c1 * x0[i] + c2 * o[i];
    }
    return;
  }
  f32[0] = r;
  const rb = f32Bits[0];
  const bits = bitsView(x0);
  for (let i = 0; i < n; i++) {
    x0[i] = (x[i] - sb * o[i]) / sa;
    const b = bits[i];
    const m = b & 0x7fffffff;
    // all ones where |x̂0| > float32(r) and x̂0 is not NaN (magnitude bits above infinity's)
    const clip = ((rb - m) >> 31) & ~((0x7f800000 - m) >> 31);
    bits[i] = (b & ~clip) | (((b & 0x80000000) | rb) & clip);
    out[i] = c1 * x0[i] + c2 * o[i];
  }
}

/**
 * epsilonStep on the classifier-free-guided model output o = u + g·(c − u) rounded to float32 (what guide()
 * stores), computed where the step reads it instead of in a pass and a buffer of its own: the same bits as
 * guide() into a float32 buffer then epsilonStep. `out` may be `x`, not `u` or `c`.
 */
export function guidedEpsilonStep(
  u: Float32Array,
  c: Float32Array,
  g: number,
  x: FloatArray,
  out: FloatArray,
  x0: FloatArray,
  sa: number,
  sb: number,
  c1: number,
  c2: number,
  clipRange: number,
): void {
  const n = x0.length;
  const r = clipRange;
  if (!(x0 instanceof Float32Array) || !(r >= 0) || sharesMemory(out, u) || sharesMemory(out, c)) {
    const o = new Float32Array(n);
    for (let i = 0; i < n; i++) o[i] = u[i] + g * (c[i] - u[i]);
    epsilonStep(x, o, out, x0, sa, sb, c1, c2, r);
    return;
  }
  const fround = Math.fround;
  if (r === Infinity) {
    for (let i = 0; i < n; i++) {
      const ui = u[i];
      const o = fround(ui + g * (c[i] - ui));
      x0[i] = (x[i] - sb * o) / sa;
      out[i] = c1 * x0[i] + c2 * o;
    }
    return;
  }
  f32[0] = r;
  const rb = f32Bits[0];
  const bits = bitsView(x0);
  for (let i = 0; i < n; i++) {
    const ui = u[i];
    const o = fround(ui + g * (c[i] - ui));
    x0[i] = (x[i] - sb * o) / sa;
    const b = bits[i];
    const m = b & 0x7fffffff;
    const clip = ((rb - m) >> 31) & ~((0x7f800000 - m) >> 31);
    bits[i] = (b & ~clip) | (((b & 0x80000000) | rb) & clip);
    out[i] = c1 * x0[i] + c2 * o;
  }
}

/** True when two typed-array views share bytes. */
function sharesMemory(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * diffusers' dynamic thresholding (Imagen): per batch row, s = clamp(quantile(|x̂0|, ratio), 1, maxValue),
 * x̂0 = clamp(x̂0, −s, s)/s. Quantile with linear interpolation like torch.quantile.
 */
export function dynamicThreshold(x0: FloatArray, rows: number, ratio: number, maxValue: number): void {
  const rowLen = x0.length / rows;
  const sorted = new Float64Array(rowLen);
  for (let r = 0; r < rows; r++) {
    const row = x0.subarray(r * rowLen, (r + 1) * rowLen);
    for (let i = 0; i < rowLen; i++) sorted[i] = Math.abs(row[i]);
    sorted.sort();
    const pos = ratio * (rowLen - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, rowLen - 1);
    const q = sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    const s = Math.min(Math.max(q, 1), maxValue);
    for (let i = 0; i < rowLen; i++) row[i] = Math.min(Math.max(row[i], -s), s) / s;
  }
}
