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
