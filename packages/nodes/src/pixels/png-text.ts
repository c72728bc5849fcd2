import { crc32, deflateSync } from 'node:zlib';

import sharp from 'sharp';

import { toUint8, type RgbImage } from './rgb-image.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * tEXt text is Latin-1 by the PNG standard. JSON is written with every non-ASCII character escaped as
 * \uXXXX, so it stays valid JSON and plain ASCII; other values must be Latin-1 already.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Encodes an RGB image as PNG and embeds `texts` as tEXt chunks (keyword → text), before IEND. */
export async function encodePngWithText(
  image: RgbImage,
  texts: Record<string, string> = {},
): Promise<Buffer> {
  return encodeRgbBytesPng(toUint8(image.data), image.width, image.height, texts);
}

/** sharp's (libpng's zlib) default compression level for PNG files. */
export const DEFAULT_PNG_COMPRESSION_LEVEL = 6;

/** Encodes 8-bit HWC RGB bytes as a PNG with tEXt chunks, at zlib level `compressionLevel` (0–9). */
export async function encodeRgbBytesPng(
  bytes: Uint8Array,
  width: number,
  height: number,
  texts: Record<string, string> = {},
  compressionLevel = DEFAULT_PNG_COMPRESSION_LEVEL,
): Promise<Buffer> {
  // wrapped, not copied, for sharp
  const png = await sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    raw: { width, height, channels: 3 },
  })
    .png({ compressionLevel })
    .toBuffer();
  return insertTextChunks(png, texts);
}

/**
 * zlib level of latent previews: level 1 is several times faster than the default (6) for a file about twice
 * as large (~5 KB instead of ~3 KB for a 128² preview) that only travels to the editor. Saved files keep
 * sharp's encoder (their bytes must not change).
 */
const PREVIEW_COMPRESSION_LEVEL = 1;

/**
 * Encodes 8-bit HWC RGB bytes as a PNG quickly (a progress preview: shown, never saved). Written here rather
 * than by sharp: for a 128² preview, sharp's call and its hop through libvips' thread pool cost ~1 ms of wall
 * and ~0.4 ms of main-thread CPU, where one zlib pass over rows without a filter costs ~0.1 ms.
 */
export function encodePreviewPng(bytes: Uint8Array, width: number, height: number): Buffer {
  const row = width * 3;
  if (!(width > 0 && height > 0) || bytes.length !== row * height) {
    throw new RangeError(`encodePreviewPng: ${bytes.length} bytes for ${width}×${height} RGB`);
  }
  // each scanline: filter type 0 (none), then its bytes
  const raw = Buffer.allocUnsafe((row + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (row + 1)] = 0;
    raw.set(bytes.subarray(y * row, (y + 1) * row), y * (row + 1) + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  // compression, filter method and interlace: 0
  return Buffer.concat([
    SIGNATURE,
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw, { level: PREVIEW_COMPRESSION_LEVEL })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** One PNG chunk: length, type, data, CRC of type and data. */
function pngChunk(type: string, data: Uint8Array): Buffer {
  const chunk = Buffer.allocUnsafe(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  chunk.set(data, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)) >>> 0, 8 + data.length);
  return chunk;
}

/**
 * Encodes 8-bit planar RGB bytes (three width×height planes, an IMAGE's layout) as a PNG with tEXt chunks:
 * sharp joins the planes, so the interleaving runs on its threads, off the event loop. The same file as
 * encodeRgbBytesPng of the interleaved bytes at the same level.
 */
export async function encodePlanarRgbBytesPng(
  planes: Uint8Array,
  width: number,
  height: number,
  texts: Record<string, string> = {},
  compressionLevel = DEFAULT_PNG_COMPRESSION_LEVEL,
): Promise<Buffer> {
  const plane = width * height;
  if (planes.length !== 3 * plane)
    throw new RangeError(`encodePlanarRgbBytesPng: ${planes.length} bytes for 3×${width}×${height}`);
  const raw = { raw: { width, height, channels: 1 as const } };
  // wrapped, not copied, for sharp
  const band = (c: number): Buffer => Buffer.from(planes.buffer, planes.byteOffset + c * plane, plane);
  const png = await sharp(band(0), raw)
    .joinChannel([band(1), band(2)], raw)
    .png({ compressionLevel })
    .toBuffer();
  return insertTextChunks(png, texts);
}

/** Adds tEXt chunks to an existing PNG file's bytes (the file itself when there are none to add). */
export function insertTextChunks(png: Buffer, texts: Record<string, string>): Buffer {
  // nothing to add: parsing and copying the file gave the same bytes for ~0.15 ms of main-thread CPU
  if (Object.keys(texts).length === 0) return png;
  const chunks = parseChunks(png);
  const iend = chunks.findIndex((c) => c.type === 'IEND');
  if (iend < 0) throw new Error('PNG has no IEND chunk');
  const extra = Object.entries(texts).map(([keyword, text]) => textChunk(keyword, text));
  const before = png.subarray(0, chunks[iend].offset);
  const after = png.subarray(chunks[iend].offset);
  return Buffer.concat([before, ...extra, after]);
}

/** Reads every tEXt chunk (and uncompressed iTXt) of a PNG file: keyword → text. */
export function readPngTextChunks(png: Uint8Array): Record<string, string> {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const out: Record<string, string> = {};
  for (const chunk of parseChunks(buf)) {
    const data = buf.subarray(chunk.offset + 8, chunk.offset + 8 + chunk.length);
    if (chunk.type === 'tEXt') {
      const nul = data.indexOf(0);
      if (nul <= 0) continue;
      out[data.subarray(0, nul).toString('latin1')] = data.subarray(nul + 1).toString('latin1');
    } else if (chunk.type === 'iTXt') {
      const nul = data.indexOf(0);
      if (nul <= 0 || data[nul + 1] !== 0) continue; // compressed iTXt is not used by us
      const langEnd = data.indexOf(0, nul + 3);
      const keyEnd = langEnd < 0 ? -1 : data.indexOf(0, langEnd + 1);
      if (keyEnd < 0) continue;
      out[data.subarray(0, nul).toString('latin1')] = data.subarray(keyEnd + 1).toString('utf8');
    }
  }
  return out;
}

interface ChunkRef {
  type: string;
  offset: number;
  length: number;
}

function parseChunks(png: Buffer): ChunkRef[] {
  if (png.length < 8 || !png.subarray(0, 8).equals(SIGNATURE))
    throw new Error('not a PNG file (bad signature)');
  const chunks: ChunkRef[] = [];
  let offset = 8;
  while (offset + 12 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString('latin1');
    if (offset + 12 + length > png.length) throw new Error(`PNG chunk ${type} runs past the end of the file`);
    chunks.push({ type, offset, length });
    offset += 12 + length;
    if (type === 'IEND') break;
  }
  return chunks;
}

/** A UTF-16 code unit above U+00FF (a surrogate half included): not Latin-1. */
const NOT_LATIN1 = /[\u0100-\uffff]/;

function textChunk(keyword: string, text: string): Buffer {
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword) || keyword.startsWith(' ') || keyword.endsWith(' ')) {
    throw new Error(`invalid PNG text keyword "${keyword}" (1–79 Latin-1 characters, no edge spaces)`);
  }
  if (NOT_LATIN1.test(text)) throw new Error(`PNG text "${keyword}" is not Latin-1; use asciiJson()`);
  return pngChunk(
    'tEXt',
    Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]),
  );
}
