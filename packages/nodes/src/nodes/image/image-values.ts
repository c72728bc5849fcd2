import { NodeInputError, notedDisplayBytes, roundToDisplayBytes, Tensor } from '@diffedit/core';

import { createGreyImage, createRgbImage, type GreyImage, type RgbImage } from '../../pixels/index.js';

/**
 * IMAGE values are float32 tensors [B, 3, H, W] (NCHW, the VAE's layout) with values in [0, 1].
 * MASK values are float32 tensors [B, 1, h, w] with values in {0, 1}: 1 = repaint (white), 0 = keep.
 */
declare module '@diffedit/core' {
  interface SocketValueTypes {
    IMAGE: Tensor;
    MASK: Tensor;
  }
}

/** Checks that `value` is an IMAGE tensor and returns it; the error names the node's field. */
export function requireImage(value: unknown, field: string): Tensor {
  if (!(value instanceof Tensor) || value.rank !== 4 || value.dims[1] !== 3) {
    throw new NodeInputError(field, `${field} must be an IMAGE [B,3,H,W], got ${describeShape(value)}`);
  }
  return value;
}

/** Checks that `value` is a MASK tensor [B,1,h,w] (a [B,h,w] or [h,w] tensor is accepted and reshaped). */
export function requireMask(value: unknown, field: string): Tensor {
  if (value instanceof Tensor) {
    if (value.rank === 4 && value.dims[1] === 1) return value;
    if (value.rank === 3) return value.reshape([value.dims[0], 1, value.dims[1], value.dims[2]]);
    if (value.rank === 2) return value.reshape([1, 1, value.dims[0], value.dims[1]]);
  }
  throw new NodeInputError(field, `${field} must be a MASK [B,1,h,w], got ${describeShape(value)}`);
}

export function describeShape(value: unknown): string {
  if (value instanceof Tensor) return `a tensor [${value.dims.join(', ')}]`;
  if (value === undefined) return 'nothing';
  return typeof value;
}

/** Stacks same-sized RGB images into one IMAGE batch. */
export function imageBatchFromRgb(images: readonly RgbImage[]): Tensor {
  if (images.length === 0) throw new Error('imageBatchFromRgb: no images');
  const { width, height } = images[0];
  const plane = width * height;
  const out = new Tensor([images.length, 3, height, width]);
  images.forEach((image, b) => {
    if (image.width !== width || image.height !== height) {
      throw new Error(
        `imageBatchFromRgb: image ${b} is ${image.width}×${image.height}, expected ${width}×${height}`,
      );
    }
    const base = b * 3 * plane;
    for (let p = 0; p < plane; p++) {
      out.data[base + p] = image.data[p * 3];
      out.data[base + plane + p] = image.data[p * 3 + 1];
      out.data[base + 2 * plane + p] = image.data[p * 3 + 2];
    }
  });
  return out;
}

/** float32(k / 255) for k = 0…255: what fromUint8 gives for a byte. */
const LEVELS = Float32Array.from({ length: 256 }, (_, k) => k / 255);

/**
 * 8-bit HWC RGB bytes (sharp's raw output) → an IMAGE [1,3,H,W] of their levels: the same values as fromUint8
 * then imageBatchFromRgb, held as planar bytes (the floats are computed only if a consumer reads them).
 */
export function imageBatchFromRgbBytes(bytes: Uint8Array, width: number, height: number): Tensor {
  const plane = width * height;
  if (bytes.length !== plane * 3) {
    throw new Error(`imageBatchFromRgbBytes: ${bytes.length} bytes for ${width}×${height}×3`);
  }
  const planar = new Uint8Array(plane * 3);
  if (LITTLE_ENDIAN && plane % 4 === 0 && bytes.byteOffset % 4 === 0) deinterleaveWords(bytes, planar, plane);
  else deinterleaveBytes(bytes, planar, plane);
  return Tensor.ofByteLevels([1, 3, height, width], planar);
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** HWC RGB bytes → planar, byte by byte. */
export function deinterleaveBytes(bytes: Uint8Array, planar: Uint8Array, plane: number): void {
  const r = planar.subarray(0, plane);
  const g = planar.subarray(plane, 2 * plane);
  const b = planar.subarray(2 * plane, 3 * plane);
  for (let p = 0, i = 0; p < plane; p++, i += 3) {
    r[p] = bytes[i];
    g[p] = bytes[i + 1];
    b[p] = bytes[i + 2];
  }
}

/** Three planes of `plane` bytes from `base` (planar RGB) → HWC RGB bytes in `out`, four pixels a step when it can. */
export function interleavePlanes(planes: Uint8Array, base: number, plane: number, out: Uint8Array): void {
  if (LITTLE_ENDIAN && plane % 4 === 0 && (planes.byteOffset + base) % 4 === 0 && out.byteOffset % 4 === 0) {
    interleaveWords(planes, base, plane, out);
  } else interleaveBytes(planes, base, plane, out);
}

/** interleavePlanes byte by byte. */
export function interleaveBytes(planes: Uint8Array, base: number, plane: number, out: Uint8Array): void {
  for (let p = 0, i = 0, at = base; p < plane; p++, i += 3, at++) {
    out[i] = planes[at];
    out[i + 1] = planes[at + plane];
    out[i + 2] = planes[at + 2 * plane];
  }
}

/**
 * interleaveBytes four pixels at a time (little-endian; `plane` a multiple of 4, both sides 4-byte aligned): one
 * 32-bit word per plane in, three words R0 G0 B0 R1 | G1 B1 R2 G2 | B2 R3 G3 B3 out.
 */
export function interleaveWords(planes: Uint8Array, base: number, plane: number, out: Uint8Array): void {
  const q = plane >> 2;
  const at = planes.byteOffset + base;
  const r = new Uint32Array(planes.buffer, at, q);
  const g = new Uint32Array(planes.buffer, at + plane, q);
  const b = new Uint32Array(planes.buffer, at + 2 * plane, q);
  const o = new Uint32Array(out.buffer, out.byteOffset, 3 * q);
  for (let k = 0, j = 0; k < q; k++, j += 3) {
    const R = r[k];
    const G = g[k];
    const B = b[k];
    o[j] = (R & 0xff) | ((G & 0xff) << 8) | ((B & 0xff) << 16) | (((R >>> 8) & 0xff) << 24);
    o[j + 1] =
      ((G >>> 8) & 0xff) |
      (((B >>> 8) & 0xff) << 8) |
      (((R >>> 16) & 0xff) << 16) |
      (((G >>> 16) & 0xff) << 24);
    o[j + 2] = ((B >>> 16) & 0xff) | ((R >>> 24) << 8) | ((G >>> 24) << 16) | ((B >>> 24) << 24);
  }
}

/**
 * deinterleaveBytes four pixels at a time (little-endian; `plane` a multiple of 4, `bytes` 4-byte aligned):
 * three 32-bit words R0 G0 B0 R1 | G1 B1 R2 G2 | B2 R3 G3 B3 in, one word per plane out.
 */
export function deinterleaveWords(bytes: Uint8Array, planar: Uint8Array, plane: number): void {
  const q = plane >> 2;
  const src = new Uint32Array(bytes.buffer, bytes.byteOffset, 3 * q);
  const out = new Uint32Array(planar.buffer, planar.byteOffset, 3 * q);
  for (let k = 0, j = 0; k < q; k++, j += 3) {
    const a = src[j];
    const b = src[j + 1];
    const c = src[j + 2];
    out[k] = (a & 0xff) | ((a >>> 24) << 8) | (((b >>> 16) & 0xff) << 16) | (((c >>> 8) & 0xff) << 24);
    out[q + k] = ((a >>> 8) & 0xff) | ((b & 0xff) << 8) | ((b >>> 24) << 16) | (((c >>> 16) & 0xff) << 24);
    out[2 * q + k] =
      ((a >>> 16) & 0xff) | (((b >>> 8) & 0xff) << 8) | ((c & 0xff) << 16) | ((c >>> 24) << 24);
  }
}

/**
 * One image of an IMAGE batch → 8-bit HWC RGB bytes for sharp, in one pass: the same bytes as
 * toUint8(rgbFromImageBatch(batch, index).data) (clamped to [0, 1], rounded half up).
 */
export function rgbBytesFromImageBatch(batch: Tensor, index = 0): Uint8Array {
  const [, , height, width] = batch.dims;
  const plane = width * height;
  const base = index * 3 * plane;
  const out = new Uint8Array(plane * 3);
  // an image made of 8-bit levels (a grid, a loaded file), or a decoded image with its display bytes
  // (Math.round(clamp01(v) · 255), what byteOf gives): interleave those bytes
  const levels = batch.byteLevels ?? notedDisplayBytes(batch.data);
  if (levels !== undefined) {
    interleavePlanes(levels, base, plane, out);
    return out;
  }
  const src = batch.data;
  for (let p = 0, i = 0; p < plane; p++, i += 3) {
    out[i] = byteOf(src[base + p]);
    out[i + 1] = byteOf(src[base + plane + p]);
    out[i + 2] = byteOf(src[base + 2 * plane + p]);
  }
  return out;
}

/**
 * Math.round(clamp01(v) · 255) as toUint8 computes it, as a small integer (truncating v·255 + 0.5 is the same
 * rounding for v in [0, 1]); NaN stays NaN (a Uint8Array stores it as 0, as toUint8's does).
 */
function byteOf(v: number): number {
  return v >= 0 ? (v < 1 ? (v * 255 + 0.5) | 0 : 255) : v < 0 ? 0 : NaN;
}

/**
 * Tiles IMAGE batches that all have `width`×`height` images into one 8-bit-level IMAGE [1,3,rows·H,cols·W],
 * planar to planar in one pass: the same values as rgbListFromImageBatch → makeImageGrid → roundToByteLevels
 * → imageBatchFromRgb, without the three copies. The grid is held as bytes (its floats are computed only if a
 * consumer reads them); a source holding -0 or NaN, which pass through as they are, takes the float path.
 */
export function tileImageBatches(
  batches: readonly Tensor[],
  rows: number,
  cols: number,
  width: number,
  height: number,
): Tensor {
  const bytes = new Uint8Array(3 * width * cols * height * rows);
  // a source made of 8-bit levels already holds what this pass would compute, and so do the display bytes a
  // decoded image comes with (see core's display-bytes.ts): copy their rows
  const sources = batches.map((batch) => batch.byteLevels ?? notedDisplayBytes(batch.data));
  const complete = forEachGridRow(batches, cols, width, height, rows, (i, from, to) => {
    const srcBytes = sources[i];
    if (srcBytes !== undefined) {
      bytes.set(srcBytes.subarray(from, from + width), to);
      return true;
    }
    return roundToDisplayBytes(batches[i].data, from, bytes, to, width);
  });
  return complete
    ? Tensor.ofByteLevels([1, 3, height * rows, width * cols], bytes)
    : tileImageBatchesAsFloats(batches, rows, cols, width, height); // -0, NaN
}

/** tileImageBatches as float values, for sources holding -0 or NaN (no byte levels: they pass through). */
export function tileImageBatchesAsFloats(
  batches: readonly Tensor[],
  rows: number,
  cols: number,
  width: number,
  height: number,
): Tensor {
  const out = new Tensor([1, 3, height * rows, width * cols]);
  const dst = out.data;
  forEachGridRow(batches, cols, width, height, rows, (i, from, to) => {
    const src = batches[i].data;
    for (let x = 0; x < width; x++) {
      const v = src[from + x];
      // ±0 and NaN pass through as they are, as Math.round(clamp01(v) · 255) / 255 leaves them
      dst[to + x] = v > 0 ? LEVELS[v < 1 ? (v * 255 + 0.5) | 0 : 255] : v < 0 ? 0 : v;
    }
    return true;
  });
  return out;
}

/**
 * The grid's layout, planar to planar: calls `row(i, from, to)` for each row of each channel of each image of
 * `batches[i]`, cells filled left to right then top to bottom; `from` indexes the batch's data, `to` the grid
 * [1, 3, rows·H, cols·W]. Stops at the first row for which `row` returns false, and returns whether none did.
 */
function forEachGridRow(
  batches: readonly Tensor[],
  cols: number,
  width: number,
  height: number,
  rows: number,
  row: (i: number, from: number, to: number) => boolean,
): boolean {
  const outWidth = width * cols;
  const outPlane = outWidth * height * rows;
  const plane = width * height;
  let cell = 0;
  for (let i = 0; i < batches.length; i++) {
    for (let b = 0; b < batches[i].dims[0]; b++, cell++) {
      const x0 = (cell % cols) * width;
      const y0 = Math.floor(cell / cols) * height;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < height; y++) {
          if (!row(i, (b * 3 + c) * plane + y * width, c * outPlane + (y0 + y) * outWidth + x0)) return false;
        }
      }
    }
  }
  return true;
}

/** One image of an IMAGE batch as HWC RGB. */
export function rgbFromImageBatch(batch: Tensor, index = 0): RgbImage {
  const [, , height, width] = batch.dims;
  const plane = width * height;
  const base = index * 3 * plane;
  const image = createRgbImage(width, height);
  for (let p = 0; p < plane; p++) {
    image.data[p * 3] = batch.data[base + p];
    image.data[p * 3 + 1] = batch.data[base + plane + p];
    image.data[p * 3 + 2] = batch.data[base + 2 * plane + p];
  }
  return image;
}

/** Every image of an IMAGE batch as HWC RGB. */
export function rgbListFromImageBatch(batch: Tensor): RgbImage[] {
  return Array.from({ length: batch.dims[0] }, (_, b) => rgbFromImageBatch(batch, b));
}

/** One mask of a MASK batch as a grey image. */
export function greyFromMaskBatch(mask: Tensor, index = 0): GreyImage {
  const [, , height, width] = mask.dims;
  const plane = width * height;
  return createGreyImage(width, height, mask.data.slice(index * plane, (index + 1) * plane));
}

export function maskBatchFromGrey(masks: readonly GreyImage[]): Tensor {
  const { width, height } = masks[0];
  const out = new Tensor([masks.length, 1, height, width]);
  masks.forEach((m, b) => {
    if (m.width !== width || m.height !== height) throw new Error('maskBatchFromGrey: masks differ in size');
    out.data.set(m.data, b * width * height);
  });
  return out;
}
