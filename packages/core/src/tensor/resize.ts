import { Tensor } from './tensor.js';

function checkTarget(t: Tensor, height: number, width: number, where: string): void {
  if (t.rank !== 4) throw new RangeError(`${where}: expected an NCHW tensor, got ${t}`);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(`${where}: target size ${height}×${width} must be positive integers`);
  }
}

/**
 * Nearest-neighbour resize of an NCHW tensor, matching torch.nn.functional.interpolate(mode='nearest'):
 * source index = min(floor(dst · in/out), in − 1).
 */
export function resizeNearest(t: Tensor, height: number, width: number): Tensor {
  checkTarget(t, height, width, 'resizeNearest');
  const [n, c, h, w] = t.dims;
  const out = new Tensor([n, c, height, width]);
  const ys = new Int32Array(height);
  const xs = new Int32Array(width);
  for (let y = 0; y < height; y++) ys[y] = Math.min(Math.floor(y * (h / height)), h - 1);
  for (let x = 0; x < width; x++) xs[x] = Math.min(Math.floor(x * (w / width)), w - 1);
  const src = t.data;
  const dst = out.data;
  let o = 0;
  for (let p = 0; p < n * c; p++) {
    const plane = p * h * w;
    for (let y = 0; y < height; y++) {
      const row = plane + ys[y] * w;
      for (let x = 0; x < width; x++) dst[o++] = src[row + xs[x]];
    }
  }
  return out;
}

/** Source coordinate and weights for bilinear resampling along one axis (torch, align_corners=false). */
function bilinearTaps(inSize: number, outSize: number, alignCorners: boolean) {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let s: number;
    if (alignCorners) s = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
    else s = Math.max((o + 0.5) * (inSize / outSize) - 0.5, 0);
    const lo = Math.min(Math.floor(s), inSize - 1);
    i0[o] = lo;
    i1[o] = Math.min(lo + 1, inSize - 1);
    w1[o] = s - lo;
  }
  return { i0, i1, w1 };
}

/**
 * Bilinear resize of an NCHW tensor, matching torch interpolate(mode='bilinear', antialias=False) with the
 * given align_corners (default false, half-pixel centres).
 */
export function resizeBilinear(t: Tensor, height: number, width: number, alignCorners = false): Tensor {
  checkTarget(t, height, width, 'resizeBilinear');
  const [n, c, h, w] = t.dims;
  const out = new Tensor([n, c, height, width]);
  const ty = bilinearTaps(h, height, alignCorners);
  const tx = bilinearTaps(w, width, alignCorners);
  const src = t.data;
  const dst = out.data;
  let o = 0;
  for (let p = 0; p < n * c; p++) {
    const plane = p * h * w;
    for (let y = 0; y < height; y++) {
      const r0 = plane + ty.i0[y] * w;
      const r1 = plane + ty.i1[y] * w;
      const wy = ty.w1[y];
      for (let x = 0; x < width; x++) {
        const a = tx.i0[x];
        const b = tx.i1[x];
        const wx = tx.w1[x];
        const top = src[r0 + a] * (1 - wx) + src[r0 + b] * wx;
        const bottom = src[r1 + a] * (1 - wx) + src[r1 + b] * wx;
        dst[o++] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return out;
}

/**
 * Area (adaptive average pooling) resize of an NCHW tensor, matching torch interpolate(mode='area'): output
 * pixel i averages source rows floor(i·in/out) … ceil((i+1)·in/out) − 1. The right choice for downscaling a
 * mask by an integer factor (e.g. image → latent resolution).
 */
export function resizeArea(t: Tensor, height: number, width: number): Tensor {
  checkTarget(t, height, width, 'resizeArea');
  const [n, c, h, w] = t.dims;
  const out = new Tensor([n, c, height, width]);
  const src = t.data;
  const dst = out.data;
  let o = 0;
  for (let p = 0; p < n * c; p++) {
    const plane = p * h * w;
    for (let y = 0; y < height; y++) {
      const y0 = Math.floor((y * h) / height);
      const y1 = Math.ceil(((y + 1) * h) / height);
      for (let x = 0; x < width; x++) {
        const x0 = Math.floor((x * w) / width);
        const x1 = Math.ceil(((x + 1) * w) / width);
        let s = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) s += src[plane + yy * w + xx];
        dst[o++] = s / ((y1 - y0) * (x1 - x0));
      }
    }
  }
  return out;
}
