import type { Uint8RgbImage } from './blip-image-processor.js';

/**
 * Pillow's `Image.resize` for 8-bit RGB (libImaging/Resample.c), which transformers' image processors call
 * (BLIP: BICUBIC): a separable convolution, horizontal pass then vertical, each rounding to 8 bits, with the
 * filter widened by the scale when shrinking and 22-bit fixed-point coefficients. Written after Resample.c so
 * that pixel values, and so captions, are the ones transformers computes; sharp's cubic kernel differs by a few
 * grey levels at edges, more when enlarging.
 */
export type PillowFilter = 'bicubic' | 'bilinear' | 'lanczos' | 'box' | 'hamming';

/** PIL.Image.Resampling codes as preprocessor configs store them (`resample`). */
export const PILLOW_RESAMPLE: Readonly<Record<number, PillowFilter>> = {
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  4: 'box',
  5: 'hamming',
};

const PRECISION_BITS = 32 - 8 - 2;

interface Filter {
  readonly support: number;
  weight(x: number): number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const FILTERS: Record<PillowFilter, Filter> = {
  box: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  hamming: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      const px = a * Math.PI;
      return (Math.sin(px) / px) * (0.54 + 0.46 * Math.cos(px));
    },
  },
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      const v = Math.abs(x);
      if (v < 1) return ((a + 2) * v - (a + 3)) * v * v + 1;
      if (v < 2) return (((v - 5) * v + 8) * v - 4) * a;
      return 0;
    },
  },
  lanczos: {
    support: 3,
    weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0),
  },
};

interface Coefficients {
  readonly bounds: Int32Array; // [xmin, count] per output pixel
  readonly weights: Int32Array; // `size` fixed-point weights per output pixel
  readonly size: number;
}

/** Resample.c's precompute_coeffs + normalize_coeffs_8bpc for the whole input range. */
function coefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const size = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * size);
  const k = new Float64Array(size);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    // C's (int) truncates toward zero
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      weights[xx * size + x] = Math.trunc(
        w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS),
      );
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, weights, size };
}

function clip8(value: number): number {
  const v = Math.floor(value / (1 << PRECISION_BITS));
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** One pass along x (`horizontal`) or y over an RGB image of `width` × `height`. */
function pass(
  src: Uint8Array,
  width: number,
  height: number,
  outSize: number,
  horizontal: boolean,
  filter: Filter,
): Uint8Array {
  const inSize = horizontal ? width : height;
  const { bounds, weights, size } = coefficients(inSize, outSize, filter);
  const outW = horizontal ? outSize : width;
  const outH = horizontal ? height : outSize;
  const out = new Uint8Array(outW * outH * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const i = horizontal ? x : y;
      const xmin = bounds[i * 2];
      const count = bounds[i * 2 + 1];
      let r = half;
      let g = half;
      let b = half;
      for (let j = 0; j < count; j++) {
        const w = weights[i * size + j];
        const at = horizontal ? (y * width + xmin + j) * 3 : ((xmin + j) * width + x) * 3;
        r += src[at] * w;
        g += src[at + 1] * w;
        b += src[at + 2] * w;
      }
      const o = (y * outW + x) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return out;
}

/** `PIL.Image.resize((width, height), filter)` of an 8-bit RGB image (no reducing_gap, the whole image). */
export function pillowResize(
  image: Uint8RgbImage,
  width: number,
  height: number,
  filter: PillowFilter = 'bicubic',
): Uint8RgbImage {
  const f = FILTERS[filter];
  let data: Uint8Array = Uint8Array.from(image.data);
  let w = image.width;
  const h = image.height;
  if (width !== w) {
    data = pass(data, w, h, width, true, f);
    w = width;
  }
  if (height !== h) data = pass(data, w, h, height, false, f);
  return { width, height, data };
}
