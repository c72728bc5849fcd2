import sharp from 'sharp';
import type { Metadata } from 'sharp';

import { createGreyImage, createRgbImage, fromUint8, type GreyImage, type RgbImage } from './rgb-image.js';

export interface DecodeImageOptions {
  /** target width; 0 or undefined keeps the source width (floored to a multiple of `multiple`) */
  width?: number;
  /** target height; 0 or undefined keeps the source height (floored to a multiple of `multiple`) */
  height?: number;
  /** sizes are floored to a multiple of this (the VAE's scale factor); default 8 */
  multiple?: number;
}

/** Raised for files that cannot be read or decoded; carries the path. */
export class ImageDecodeError extends Error {
  constructor(
    readonly source: string,
    reason: string,
  ) {
    super(`cannot read image ${source}: ${reason}`);
    this.name = 'ImageDecodeError';
  }
}

/**
 * Decodes an image file (PNG, JPEG, WebP, …) to RGB: alpha is dropped and greyscale expanded, as PIL's
 * `convert("RGB")` does, then resized with Lanczos (sharp's lanczos3) to a size that is a multiple of 8 —
 * diffusers' VaeImageProcessor floors the size the same way (spec §4).
 */
export async function decodeImage(
  input: string | Uint8Array,
  options: DecodeImageOptions = {},
  label = typeof input === 'string' ? input : '<bytes>',
): Promise<RgbImage> {
  const multiple = options.multiple ?? 8;
  let meta: Metadata;
  try {
    meta = await sharp(input).metadata();
  } catch (err) {
    throw new ImageDecodeError(label, messageOf(err));
  }
  if (!meta.width || !meta.height) throw new ImageDecodeError(label, 'no image dimensions');
  const width = targetSize(options.width, meta.width, multiple, label, 'width');
  const height = targetSize(options.height, meta.height, multiple, label, 'height');
  try {
    let pipeline = sharp(input).rotate().toColourspace('srgb');
    if (width !== meta.width || height !== meta.height) {
      pipeline = pipeline.resize(width, height, { kernel: 'lanczos3', fit: 'fill' });
    }
    const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return createRgbImage(info.width, info.height, fromUint8(data));
  } catch (err) {
    throw new ImageDecodeError(label, messageOf(err));
  }
}

/** The alpha channel of an image file at its own size, in [0, 1]: 1 = opaque (a file without alpha is opaque). */
export async function decodeAlpha(
  input: string | Uint8Array,
  label = typeof input === 'string' ? input : '<bytes>',
): Promise<GreyImage> {
  try {
    const { data, info } = await sharp(input)
      .rotate()
      .toColourspace('srgb')
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels`);
    const alpha = new Float32Array(info.width * info.height);
    for (let p = 0; p < alpha.length; p++) alpha[p] = data[p * 4 + 3] / 255;
    return createGreyImage(info.width, info.height, alpha);
  } catch (err) {
    throw new ImageDecodeError(label, messageOf(err));
  }
}

function targetSize(
  requested: number | undefined,
  source: number,
  multiple: number,
  label: string,
  what: string,
) {
  const size = requested && requested > 0 ? requested : source;
  const floored = size - (size % multiple);
  if (floored <= 0) throw new ImageDecodeError(label, `${what} ${size} is smaller than ${multiple}`);
  return floored;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
