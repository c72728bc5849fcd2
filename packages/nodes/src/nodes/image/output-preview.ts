import sharp from 'sharp';

import { notedDisplayBytes, Tensor } from '@diffedit/core';
import type { SocketType } from '@diffedit/core';

import { clamp01 } from '../../pixels/index.js';
import { interleavePlanes } from './image-values.js';

/** Longest side of an output preview, in pixels. */
export const OUTPUT_PREVIEW_SIDE = 256;

/** The socket types that get an output preview. */
export type PreviewSocketType = 'IMAGE' | 'MASK';

export function isPreviewSocketType(type: SocketType): type is PreviewSocketType {
  return type === 'IMAGE' || type === 'MASK';
}

/** A PNG of an IMAGE or MASK value: the first image of its batch, fitted within OUTPUT_PREVIEW_SIDE. */
export interface EncodedOutputPreview {
  mime: 'image/png';
  bytes: Uint8Array;
  width: number;
  height: number;
  /** The value's own size and batch length. */
  sourceWidth: number;
  sourceHeight: number;
  batch: number;
}

/** The preview's size: the source scaled down (never up) so that its longest side is at most `side`. */
export function previewSize(width: number, height: number, side = OUTPUT_PREVIEW_SIDE): [number, number] {
  const scale = Math.min(1, side / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/**
 * Encodes the preview of an IMAGE ([B,3,H,W] in [0, 1]) or MASK ([B,1,h,w] in {0, 1}) output value; undefined
 * for a value that is not one (a node that broke its contract is reported elsewhere). Images are downscaled
 * with sharp's default (Lanczos) filter; masks with nearest neighbour, so they stay black and white.
 */
export async function encodeOutputPreview(
  type: PreviewSocketType,
  value: unknown,
  side = OUTPUT_PREVIEW_SIDE,
): Promise<EncodedOutputPreview | undefined> {
  if (!(value instanceof Tensor) || value.size === 0) return undefined;
  const dims = value.dims;
  let channels: 1 | 3;
  let mask: Tensor | undefined;
  if (type === 'IMAGE') {
    if (value.rank !== 4 || dims[1] !== 3) return undefined;
    channels = 3;
  } else {
    // A MASK may also come as [B,h,w] or [h,w] (requireMask accepts them).
    mask =
      value.rank === 4 && dims[1] === 1
        ? value
        : value.rank === 3
          ? value.reshape([dims[0], 1, dims[1], dims[2]])
          : value.rank === 2
            ? value.reshape([1, 1, dims[0], dims[1]])
            : undefined;
    if (!mask) return undefined;
    channels = 1;
  }
  const source = mask ?? value;
  const height = source.dims[2];
  const width = source.dims[3];
  const raw = firstImageBytes(source, channels, width * height);
  const [w, h] = previewSize(width, height, side);
  const bytes = await sharp(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
    raw: { width, height, channels },
  })
    .resize(w, h, { fit: 'fill', ...(type === 'MASK' ? { kernel: 'nearest' } : {}) })
    .png()
    .toBuffer();
  return {
    mime: 'image/png',
    bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    width: w,
    height: h,
    sourceWidth: width,
    sourceHeight: height,
    batch: dims.length === 4 || dims.length === 3 ? dims[0] : 1,
  };
}

/**
 * The first image of a planar batch ([B, C, H, W] floats in [0, 1]) as interleaved 8-bit pixels, rounded as
 * toUint8 does — straight from the tensor, without an intermediate float copy of a possibly large image. An
 * image held as 8-bit levels (a loaded file, a grid, a mask shown as an image) or with noted display bytes (a
 * decoded image) gives those bytes, which are what the rounding gives, without reading (or computing) floats.
 */
function firstImageBytes(source: Tensor, channels: 1 | 3, plane: number): Uint8Array {
  const out = new Uint8Array(plane * channels);
  const bytes = source.byteLevels ?? notedDisplayBytes(source.data);
  if (bytes !== undefined) {
    if (channels === 3) interleavePlanes(bytes, 0, plane, out);
    else out.set(bytes.subarray(0, plane));
    return out;
  }
  const data = source.data;
  for (let c = 0; c < channels; c++) {
    const base = c * plane;
    for (let p = 0, o = c; p < plane; p++, o += channels) out[o] = Math.round(clamp01(data[base + p]) * 255);
  }
  return out;
}
