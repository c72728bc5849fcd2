import type { GraphBuilder } from '../onnx-builder/index.js';

/**
 * Small shorthands over GraphBuilder for the toy caption models (opset 17: ReduceSum takes its axes as an
 * input, ReduceMax/ReduceMean as an attribute).
 */
export class GraphOps {
  constructor(readonly g: GraphBuilder) {}

  f(value: number): string {
    return this.g.scalar(value);
  }
  i64(value: number): string {
    return this.g.scalarInt64(value);
  }
  ints(values: readonly number[]): string {
    return this.g.int64s(values);
  }
  floatsConst(values: readonly number[], dims: readonly number[], name: string): string {
    return this.g.constant(Float32Array.from(values), dims, name);
  }

  toFloat(x: string): string {
    return this.g.op('Cast', [x], { to: 1 });
  }
  toInt64(x: string): string {
    return this.g.op('Cast', [x], { to: 7 });
  }
  /** Float → int64 for values that hold exact integers (token ids carried in float tensors). */
  roundToInt64(x: string): string {
    return this.toInt64(this.g.op('Round', [x]));
  }

  add(a: string, b: string): string {
    return this.g.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.g.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.g.op('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.g.op('Div', [a, b]);
  }
  eq(a: string, b: string): string {
    return this.g.op('Equal', [a, b]);
  }
  less(a: string, b: string): string {
    return this.g.op('Less', [a, b]);
  }
  greater(a: string, b: string): string {
    return this.g.op('Greater', [a, b]);
  }
  and(a: string, b: string): string {
    return this.g.op('And', [a, b]);
  }
  or(a: string, b: string): string {
    return this.g.op('Or', [a, b]);
  }
  not(a: string): string {
    return this.g.op('Not', [a]);
  }
  where(cond: string, a: string, b: string): string {
    return this.g.op('Where', [cond, a, b]);
  }

  unsqueeze(x: string, axes: readonly number[]): string {
    return this.g.op('Unsqueeze', [x, this.ints(axes)]);
  }
  squeeze(x: string, axes: readonly number[]): string {
    return this.g.op('Squeeze', [x, this.ints(axes)]);
  }
  concat(xs: readonly string[], axis: number): string {
    return this.g.op('Concat', xs, { axis });
  }
  /** x[..., start:end] along one axis (negative bounds count from the end, as in Python). */
  slice(x: string, axis: number, start: number | string, end: number | string): string {
    const bound = (v: number | string): string => (typeof v === 'number' ? this.ints([v]) : v);
    return this.g.op('Slice', [x, bound(start), bound(end), this.ints([axis])]);
  }
  /** x[..., index, ...]: one element of an axis, the axis removed. */
  pick(x: string, axis: number, index: number): string {
    return this.g.op('Gather', [x, this.i64(index)], { axis });
  }
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.g.op('ReduceSum', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  cumSum(x: string, axis: number, exclusive = false): string {
    return this.g.op('CumSum', [x, this.i64(axis)], exclusive ? { exclusive: 1 } : {});
  }
  /** Size of axis `axis` of x as an int64 tensor of shape [1]. */
  dim(x: string, axis: number): string {
    return this.slice(this.g.op('Shape', [x]), 0, axis, axis + 1);
  }
  /** 0, 1, …, n-1 as float32 for n given as an int64 [1] tensor. */
  rangeFloat(n: string): string {
    const limit = this.squeeze(this.toFloat(n), [0]);
    return this.g.op('Range', [this.f(0), limit, this.f(1)]);
  }
}
