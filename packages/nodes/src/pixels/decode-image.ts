import { closeSync, constants, openSync, readSync } from 'node:fs';

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
  /**
   * Refuse a file with more pixels than this, read from its header before anything is decoded (default
   * DEFAULT_MAX_PIXELS): decoding takes about 150 bytes per pixel at peak, a 6000×6000 photo 5 GiB.
   */
  maxPixels?: number;
}

/** Pixels in a megapixel as the limits count them (so 16 MP is exactly 4096 × 4096). */
export const MEGAPIXEL = 1024 * 1024;

/** 16 megapixels: a 4096×4096 image, the largest size the DiffEdit nodes take. */
export const DEFAULT_MAX_PIXELS = 16 * MEGAPIXEL;

/** The formats LoadImage and LoadMask document; anything else (SVG, GIF, TIFF, AVIF, HEIF…) is refused. */
export type AcceptedImageFormat = 'png' | 'jpeg' | 'webp';

/**
 * The format from the file's first bytes (its signature), not from its name: an SVG renamed .png is still an
 * SVG, and sharp would render it (fetching what it references).
 */
export function sniffImageFormat(head: Uint8Array): AcceptedImageFormat | undefined {
  const starts = (bytes: number[], at = 0): boolean => bytes.every((b, i) => head[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts([0xff, 0xd8, 0xff])) return 'jpeg';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return undefined;
}

/** What a refused file seems to be, for the message. */
function guessFormat(head: Uint8Array): string {
  const text = new TextDecoder('latin1').decode(head.subarray(0, 64)).trimStart().toLowerCase();
  if (text.startsWith('gif8')) return 'a GIF';
  if (text.startsWith('ii*') || text.startsWith('mm\0*')) return 'a TIFF';
  if (text.startsWith('<?xml') || text.startsWith('<svg')) return 'an SVG';
  if (text.slice(4, 12).startsWith('ftyp')) return 'an AVIF/HEIF';
  if (text.startsWith('bm')) return 'a BMP';
  if (head.length === 0) return 'empty';
  return 'not an image this node reads';
}

/**
 * The first 64 bytes of the file (or of the bytes). Read synchronously: three awaited file calls (open, read,
 * close) were three trips through libuv's thread pool on the path of every LoadImage, for 64 bytes.
 */
function readHead(input: string | Uint8Array, label: string): Uint8Array {
  if (typeof input !== 'string') return input.subarray(0, 64);
  let fd: number;
  try {
    // non-blocking: a FIFO without a writer must not stop the event loop (it reads as empty)
    fd = openSync(input, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new ImageDecodeError(label, messageOf(err));
  }
  try {
    const head = new Uint8Array(64);
    const bytesRead = readSync(fd, head, 0, 64, 0);
    return head.subarray(0, bytesRead);
  } catch (err) {
    throw new ImageDecodeError(label, messageOf(err)); // a folder (EISDIR), a vanished file
  } finally {
    closeSync(fd);
  }
}

/** What checkImageFile read from a file's header. */
export interface ImageHeader {
  format: AcceptedImageFormat;
  width: number;
  height: number;
}

/**
 * A PNG's size from its IHDR chunk, which the format requires first (signature, length 13, 'IHDR', width,
 * height): what sharp's metadata() reports for a PNG, without a trip through libvips' threads (~0.3–0.9 ms
 * of wall on the path of every LoadImage). Undefined when the bytes are not laid out so; sharp then reads them.
 */
export function pngHeaderSize(head: Uint8Array): { width: number; height: number } | undefined {
  if (head.length < 24) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const ihdr = head[12] === 0x49 && head[13] === 0x48 && head[14] === 0x44 && head[15] === 0x52;
  if (view.getUint32(8) !== 13 || !ihdr) return undefined;
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * Checks what an image file is before decoding it: one of the documented formats (by signature) and at most
 * `maxPixels` pixels (by its header). Returns the format and the size the header gives.
 */
export async function checkImageFile(
  input: string | Uint8Array,
  maxPixels: number = DEFAULT_MAX_PIXELS,
  label = typeof input === 'string' ? input : '<bytes>',
): Promise<ImageHeader> {
  const head = readHead(input, label);
  const format = sniffImageFormat(head);
  if (format === undefined) {
    throw new ImageDecodeError(label, `it is ${guessFormat(head)}; only PNG, JPEG and WebP files are read`);
  }
  const size = format === 'png' ? pngHeaderSize(head) : undefined;
  const { width, height } = size ?? (await sharpHeaderSize(input, format, label));
  if (!width || !height) throw new ImageDecodeError(label, 'no image dimensions');
  if (width * height > maxPixels) {
    throw new ImageTooLargeError(label, width, height, maxPixels);
  }
  return { format, width, height };
}

/** The size sharp reads from the header (JPEG, WebP, or a PNG whose first chunk is not where it should be). */
async function sharpHeaderSize(
  input: string | Uint8Array,
  format: AcceptedImageFormat,
  label: string,
): Promise<{ width: number | undefined; height: number | undefined }> {
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageDecodeError(label, messageOf(err));
  }
  if (meta.format !== format && meta.width && meta.height) {
    throw new ImageDecodeError(
      label,
      `its header says ${meta.format ?? 'nothing'} but its signature ${format}`,
    );
  }
  return { width: meta.width, height: meta.height };
}

/** An image with more pixels than allowed; raised from the header, before any decoding. */
export class ImageTooLargeError extends Error {
  constructor(
    readonly source: string,
    readonly width: number,
    readonly height: number,
    readonly maxPixels: number,
  ) {
    // three significant digits, so that a small limit (0.001 MP) does not print as 0.0 MP
    const mp = (n: number): string => `${Number((n / MEGAPIXEL).toPrecision(3))} MP`;
    super(
      `image ${source} is ${width}×${height} (${mp(width * height)}), above the limit of ${mp(maxPixels)}; ` +
        'scale it down first, or raise the limit (LoadImage max_megapixels, runtime maxPixels)',
    );
    this.name = 'ImageTooLargeError';
  }
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
  const { width, height, bytes } = await decodeImageBytes(input, options, label);
  return createRgbImage(width, height, fromUint8(bytes));
}

/** decodeImage's pixels as sharp gives them: 8-bit RGB, channels last (HWC). */
export async function decodeImageBytes(
  input: string | Uint8Array,
  options: DecodeImageOptions = {},
  label = typeof input === 'string' ? input : '<bytes>',
): Promise<{ width: number; height: number; bytes: Uint8Array }> {
  const multiple = options.multiple ?? 8;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const meta = await checkImageFile(input, maxPixels, label);
  const width = targetSize(options.width, meta.width, multiple, label, 'width');
  const height = targetSize(options.height, meta.height, multiple, label, 'height');
  try {
    // sharp's own pixel limit as a second guard (a header that lies about the size)
    let pipeline = sharp(input, { limitInputPixels: maxPixels }).rotate().toColourspace('srgb');
    if (width !== meta.width || height !== meta.height) {
      pipeline = pipeline.resize(width, height, { kernel: 'lanczos3', fit: 'fill' });
    }
    const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, bytes: data };
  } catch (err) {
    throw new ImageDecodeError(label, messageOf(err));
  }
}

/** The alpha channel of an image file at its own size, in [0, 1]: 1 = opaque (a file without alpha is opaque). */
export async function decodeAlpha(
  input: string | Uint8Array,
  label = typeof input === 'string' ? input : '<bytes>',
  maxPixels: number = DEFAULT_MAX_PIXELS,
): Promise<GreyImage> {
  await checkImageFile(input, maxPixels, label);
  try {
    const { data, info } = await sharp(input, { limitInputPixels: maxPixels })
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
