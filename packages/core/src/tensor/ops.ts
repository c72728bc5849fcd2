import { Tensor, assertSameDims, sameDims } from './tensor.js';
import { stridesOf } from './views.js';

/*
 * Elementwise operations. Every op takes an optional `out` tensor of the result shape; passing one of the
 * inputs as `out` is allowed (in place). Without `out` a new tensor is allocated. Hot loops (the denoising
 * loop) should always pass `out` so that no garbage is created per step.
 */

function target(like: Tensor, out: Tensor | undefined, where: string): Tensor {
  if (out === undefined) return new Tensor(like.dims);
  assertSameDims(out, like, `${where} (out)`);
  return out;
}

function binary(
  a: Tensor,
  b: Tensor,
  out: Tensor | undefined,
  where: string,
  f: (x: number, y: number) => number,
) {
  assertSameDims(a, b, where);
  const o = target(a, out, where);
  const x = a.data;
  const y = b.data;
  const d = o.data;
  for (let i = 0; i < d.length; i++) d[i] = f(x[i], y[i]);
  return o;
}

export function add(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  return binary(a, b, out, 'add', (x, y) => x + y);
}

export function sub(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  return binary(a, b, out, 'sub', (x, y) => x - y);
}

export function mul(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  return binary(a, b, out, 'mul', (x, y) => x * y);
}

export function div(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  return binary(a, b, out, 'div', (x, y) => x / y);
}

/** |a − b| elementwise. */
export function absDiff(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  return binary(a, b, out, 'absDiff', (x, y) => Math.abs(x - y));
}

/** out = s·a + c. */
export function affine(a: Tensor, s: number, c: number, out?: Tensor): Tensor {
  const o = target(a, out, 'affine');
  const x = a.data;
  const d = o.data;
  for (let i = 0; i < d.length; i++) d[i] = s * x[i] + c;
  return o;
}

export function scale(a: Tensor, s: number, out?: Tensor): Tensor {
  return affine(a, s, 0, out);
}

export function addScalar(a: Tensor, c: number, out?: Tensor): Tensor {
  return affine(a, 1, c, out);
}

export function abs(a: Tensor, out?: Tensor): Tensor {
  const o = target(a, out, 'abs');
  const x = a.data;
  const d = o.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.abs(x[i]);
  return o;
}

export function clamp(a: Tensor, lo: number, hi: number, out?: Tensor): Tensor {
  if (!(lo <= hi)) throw new RangeError(`clamp: lower bound ${lo} exceeds upper bound ${hi}`);
  const o = target(a, out, 'clamp');
  const x = a.data;
  const d = o.data;
  for (let i = 0; i < d.length; i++) d[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
  return o;
}

/** Applies `f` to every element (convenience; not for hot loops). */
export function mapElements(a: Tensor, f: (v: number, i: number) => number, out?: Tensor): Tensor {
  const o = target(a, out, 'mapElements');
  const x = a.data;
  const d = o.data;
  for (let i = 0; i < d.length; i++) d[i] = f(x[i], i);
  return o;
}

/** out = alpha·x + y (BLAS axpy, out-of-place unless `out` is given). */
export function axpy(alpha: number, x: Tensor, y: Tensor, out?: Tensor): Tensor {
  assertSameDims(x, y, 'axpy');
  const o = target(x, out, 'axpy');
  const xs = x.data;
  const ys = y.data;
  const d = o.data;
  for (let i = 0; i < d.length; i++) d[i] = alpha * xs[i] + ys[i];
  return o;
}

/** y += alpha·x in place; returns y. */
export function axpyInPlace(alpha: number, x: Tensor, y: Tensor): Tensor {
  return axpy(alpha, x, y, y);
}

/** out = a·x + b·y. */
export function linearCombination(a: number, x: Tensor, b: number, y: Tensor, out?: Tensor): Tensor {
  assertSameDims(x, y, 'linearCombination');
  const o = target(x, out, 'linearCombination');
  const xs = x.data;
  const ys = y.data;
  const d = o.data;
  for (let i = 0; i < d.length; i++) d[i] = a * xs[i] + b * ys[i];
  return o;
}

/**
 * For each axis, the stride with which `small` is read when broadcast (numpy rules, right-aligned) to `big`.
 * Axes of size 1 (or missing) in `small` get stride 0.
 */
export function broadcastStrides(small: readonly number[], big: readonly number[], where: string): number[] {
  if (small.length > big.length) {
    throw new RangeError(`${where}: [${small.join(', ')}] has more axes than [${big.join(', ')}]`);
  }
  const own = stridesOf(small);
  const out = new Array<number>(big.length).fill(0);
  const shift = big.length - small.length;
  for (let i = 0; i < small.length; i++) {
    const s = small[i];
    const b = big[i + shift];
    if (s === b) out[i + shift] = s === 1 ? 0 : own[i];
    else if (s !== 1) {
      throw new RangeError(`${where}: [${small.join(', ')}] does not broadcast to [${big.join(', ')}]`);
    }
  }
  return out;
}

/**
 * out = fg·mask + bg·(1 − mask), the DiffEdit background blend. `mask` broadcasts to fg's shape (e.g. mask
 * (B,1,h,w) or (1,1,h,w) or (h,w) against latents (B,4,h,w)); fg and bg must have the same shape.
 */
export function maskedBlend(fg: Tensor, mask: Tensor, bg: Tensor, out?: Tensor): Tensor {
  assertSameDims(fg, bg, 'maskedBlend');
  const o = target(fg, out, 'maskedBlend');
  if (fg.size === 0) return o;
  const dims = fg.dims;
  const mStrides = broadcastStrides(mask.dims, dims, 'maskedBlend (mask)');
  const rank = dims.length;
  const f = fg.data;
  const g = bg.data;
  const m = mask.data;
  const d = o.data;
  if (sameDims(mask.dims, dims)) {
    for (let i = 0; i < d.length; i++) d[i] = f[i] * m[i] + g[i] * (1 - m[i]);
    return o;
  }
  // Odometer over all axes but the last; the last is a contiguous run in fg/bg/out.
  const last = rank - 1;
  const inner = dims[last];
  const innerStride = mStrides[last];
  const idx = new Array<number>(rank).fill(0);
  let i = 0;
  for (;;) {
    let mBase = 0;
    for (let a = 0; a < last; a++) mBase += idx[a] * mStrides[a];
    for (let k = 0; k < inner; k++, i++) {
      const w = m[mBase + k * innerStride];
      d[i] = f[i] * w + g[i] * (1 - w);
    }
    let a = last - 1;
    while (a >= 0) {
      if (++idx[a] < dims[a]) break;
      idx[a] = 0;
      a--;
    }
    if (a < 0) break;
  }
  return o;
}

/** Sum of all elements, accumulated in float64. */
export function sumAll(a: Tensor): number {
  let s = 0;
  const x = a.data;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s;
}

/** Mean of all elements (float64 accumulation). NaN for an empty tensor. */
export function meanAll(a: Tensor): number {
  return sumAll(a) / a.size;
}

/**
 * Mean over the given axes (negative axes count from the end), accumulated in float64. The reduced axes are
 * dropped unless keepDims.
 */
export function meanAxes(a: Tensor, axes: readonly number[], keepDims = false): Tensor {
  const rank = a.rank;
  const norm = axes.map((ax) => (ax < 0 ? ax + rank : ax));
  for (const [i, ax] of norm.entries()) {
    if (!Number.isInteger(ax) || ax < 0 || ax >= rank || norm.indexOf(ax) !== i) {
      throw new RangeError(`meanAxes: axis ${axes[i]} is invalid or repeated for ${a}`);
    }
  }
  const reduced = a.dims.map((d, i) => (norm.includes(i) ? 1 : d));
  const count = norm.reduce((p, ax) => p * a.dims[ax], 1);
  const acc = new Float64Array(reduced.reduce((p, d) => p * d, 1));
  if (a.size > 0) {
    const oStrides = stridesOf(reduced).map((s, i) => (norm.includes(i) ? 0 : s));
    const idx = new Array<number>(rank).fill(0);
    const x = a.data;
    for (let i = 0; i < x.length; i++) {
      let o = 0;
      for (let ax = 0; ax < rank; ax++) o += idx[ax] * oStrides[ax];
      acc[o] += x[i];
      for (let ax = rank - 1; ax >= 0; ax--) {
        if (++idx[ax] < a.dims[ax]) break;
        idx[ax] = 0;
      }
    }
  }
  const outDims = keepDims ? reduced : a.dims.filter((_, i) => !norm.includes(i));
  const out = new Tensor(outDims);
  for (let i = 0; i < acc.length; i++) out.data[i] = acc[i] / count;
  return out;
}

export function maxAll(a: Tensor): number {
  let m = -Infinity;
  for (const v of a.data) if (v > m) m = v;
  return m;
}

export function minAll(a: Tensor): number {
  let m = Infinity;
  for (const v of a.data) if (v < m) m = v;
  return m;
}
