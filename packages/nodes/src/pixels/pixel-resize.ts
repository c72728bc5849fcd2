import sharp from 'sharp';

import {
  createGreyImage,
  createRgbImage,
  fromUint8,
  toUint8,
  type GreyImage,
  type RgbImage,
} from './rgb-image.js';

/**
 * Nearest-neighbour resize with torch's `interpolate(mode="nearest")` index rule: src = floor(dst · in/out).
 * Used for masks, where interpolation would invent values between 0 and 1.
 */
export function resizeGreyNearest(image: GreyImage, width: number, height: number): GreyImage {
  if (image.width === width && image.height === height) return image;
  return createGreyImage(width, height, resizeInterleavedNearest(image, 1, width, height));
}

export function resizeRgbNearest(image: RgbImage, width: number, height: number): RgbImage {
  if (image.width === width && image.height === height) return image;
  return createRgbImage(width, height, resizeInterleavedNearest(image, 3, width, height));
}

/** The nearest-neighbour resize of row-major, channels-last pixels. */
function resizeInterleavedNearest(
  image: { readonly width: number; readonly height: number; readonly data: Float32Array },
  channels: number,
  width: number,
  height: number,
): Float32Array {
  const out = new Float32Array(width * height * channels);
  const xs = nearestIndices(image.width, width);
  const ys = nearestIndices(image.height, height);
  const data = image.data;
  let dst = 0;
  for (let y = 0; y < height; y++) {
    const row = ys[y] * image.width;
    for (let x = 0; x < width; x++) {
      const src = (row + xs[x]) * channels;
      for (let c = 0; c < channels; c++) out[dst++] = data[src + c];
    }
  }
  return out;
}

/**
 * The nearest-neighbour resize (torch's index rule) of one plane `src` (`inWidth`×`inHeight`) into `out`
 * (`width`×`height`), e.g. a mask into one channel plane of an IMAGE tensor.
 */
export function resizePlaneNearest<T extends Float32Array | Uint8Array>(
  src: T,
  inWidth: number,
  inHeight: number,
  out: T,
  width: number,
  height: number,
): void {
  const xs = nearestIndices(inWidth, width);
  const ys = nearestIndices(inHeight, height);
  let dst = 0;
  for (let y = 0; y < height; y++) {
    // an upscale repeats source rows: copy the row just written instead of gathering it again
    if (y > 0 && ys[y] === ys[y - 1]) {
      out.copyWithin(dst, dst - width, dst);
      dst += width;
      continue;
    }
    const row = ys[y] * inWidth;
    for (let x = 0; x < width; x++) out[dst++] = src[row + xs[x]];
  }
}

/** Lanczos (lanczos3) resize through sharp, at 8-bit precision (as PIL does for RGB images). */
export async function resizeRgbLanczos(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const bytes = toUint8(image.data);
  const { data, info } = await sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return createRgbImage(info.width, info.height, fromUint8(data));
}

function nearestIndices(input: number, output: number): Int32Array {
  const scale = input / output;
  const idx = new Int32Array(output);
  for (let i = 0; i < output; i++) idx[i] = Math.min(input - 1, Math.floor(i * scale));
  return idx;
}
