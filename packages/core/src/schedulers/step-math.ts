import { Tensor } from '../tensor/tensor.js';
import { wasmGuidedEpsilonStep } from '../wasm/step-kernels.js';
import type { KernelBlend } from '../wasm/step-kernels.js';
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

// The clip's three outcomes, indexed by (x̂0 > r) | (x̂0 < −r) << 1: [x̂0 (set per value), r, −r] as float32
// values. V8 turns comparisons used as numbers into setcc, so the index, and the clip, need no branch.
const choices = new Float64Array(3);

function clipChoices(r: number): Float64Array {
  choices[1] = Math.fround(r);
  choices[2] = -choices[1];
  return choices;
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
 * Float32 arrays (the product's): x̂0 rounded to float32 (what storing it does) is compared with ±float32(r),
 * and the comparisons index its clipped value (clipChoices): a float32 beyond ±clipRange is beyond
 * ±float32(clipRange) or equal to it, so that is the two-pass result; NaN (compares false) and ±0 keep their
 * bits. No branch the data decides (on the bench workflow 15 % of the values clip, scattered: a compare and
 * branch, a ternary or Math.min/Math.max all mispredict). Measured on the bench workflow's own 80 steps (4096
 * values, CPU per call): guided 48 → 39 µs and plain 38 → 29 µs against storing x̂0 and selecting on its
 * int32 bits; a ternary or Math.min/Math.max took 45–51 µs guided.
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
  const fround = Math.fround;
  if (r === Infinity) {
    for (let i = 0; i < n; i++) {
      const oi = o[i];
      const v = fround((x[i] - sb * oi) / sa);
      x0[i] = v;
      out[i] = c1 * v + c2 * oi;
    }
    return;
  }
  const pick = clipChoices(r);
  const hi = pick[1];
  const lo = pick[2];
  for (let i = 0; i < n; i++) {
    const oi = o[i];
    const v = fround((x[i] - sb * oi) / sa);
    pick[0] = v;
    const clipped = pick[+(v > hi) | (+(v < lo) << 1)];
    x0[i] = clipped;
    out[i] = c1 * clipped + c2 * oi;
  }
}

/**
 * epsilonStep on the classifier-free-guided model output o = u + g·(c − u) rounded to float32 (what guide()
 * stores), computed where the step reads it instead of in a pass and a buffer of its own: the same bits as
 * guide() into a float32 buffer then epsilonStep. `out` may be `x`, not `u` or `c`.
 *
 * With `blend` (DiffEdit's background blend of `out`, see guidedEpsilonStepBlend), the WebAssembly kernel
 * also blends before it copies back; returns whether it did (false: the caller blends, as without the kernel).
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
  blend?: KernelBlend,
): boolean {
  const n = x0.length;
  const r = clipRange;
  if (!(x0 instanceof Float32Array) || !(r >= 0) || sharesMemory(out, u) || sharesMemory(out, c)) {
    const o = new Float32Array(n);
    for (let i = 0; i < n; i++) o[i] = u[i] + g * (c[i] - u[i]);
    epsilonStep(x, o, out, x0, sa, sb, c1, c2, r);
    return false;
  }
  // the WebAssembly kernel when it can (the same bits; it declines small arrays and NaNs, and a blend it
  // cannot do, which then runs after the step alone)
  if (x instanceof Float32Array && out instanceof Float32Array) {
    if (blend !== undefined && wasmGuidedEpsilonStep(u, c, g, x, out, x0, sa, sb, c1, c2, r, blend))
      return true;
    if (wasmGuidedEpsilonStep(u, c, g, x, out, x0, sa, sb, c1, c2, r)) return false;
  }
  const fround = Math.fround;
  if (r === Infinity) {
    for (let i = 0; i < n; i++) {
      const ui = u[i];
      const o = fround(ui + g * (c[i] - ui));
      const v = fround((x[i] - sb * o) / sa);
      x0[i] = v;
      out[i] = c1 * v + c2 * o;
    }
    return false;
  }
  const pick = clipChoices(r);
  const hi = pick[1];
  const lo = pick[2];
  for (let i = 0; i < n; i++) {
    const ui = u[i];
    const o = fround(ui + g * (c[i] - ui));
    const v = fround((x[i] - sb * o) / sa);
    pick[0] = v;
    const clipped = pick[+(v > hi) | (+(v < lo) << 1)];
    x0[i] = clipped;
    out[i] = c1 * clipped + c2 * o;
  }
  return false;
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
