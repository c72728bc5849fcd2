import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createRuntime } from '@diffedit/runtime';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  checkImageFile,
  DEFAULT_MAX_PIXELS,
  ImageDecodeError,
  ImageTooLargeError,
  pngHeaderSize,
  sniffImageFormat,
} from '@diffedit/nodes';
import { workflowDoc } from './workflow-doc.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'image-limits-'));
  const raw = Buffer.alloc(64 * 48 * 3, 200);
  const image = sharp(raw, { raw: { width: 64, height: 48, channels: 3 } });
  await image.clone().png().toFile(join(dir, 'small.png'));
  await image.clone().jpeg().toFile(join(dir, 'small.jpg'));
  await image.clone().webp().toFile(join(dir, 'small.webp'));
  await image.clone().tiff().toFile(join(dir, 'small.tiff'));
  await image.clone().gif().toFile(join(dir, 'small.gif'));
  // an SVG named .png that references a local file: it must not be rendered
  writeFileSync(
    join(dir, 'evil.png'),
    '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ' +
      'width="64" height="64"><image xlink:href="file:///etc/passwd" width="64" height="64"/></svg>',
  );
  writeFileSync(join(dir, 'empty.png'), '');
  // 2048 × 1024: 2 MP (1 MP = 1024²)
  await sharp({ create: { width: 2048, height: 1024, channels: 3, background: '#336699' } })
    .png()
    .toFile(join(dir, 'two-megapixels.png'));
  mkdirSync(join(dir, 'folder.png'));
  const small = await readFile(join(dir, 'small.png'));
  // the header of a 64×48 PNG and only part of its pixel data
  writeFileSync(join(dir, 'truncated.png'), small.subarray(0, small.length - 40));
  // a PNG signature, then a chunk other than IHDR first (not a PNG sharp reads)
  const noIhdr = Buffer.from(small);
  noIhdr.write('IHDX', 12, 'latin1');
  writeFileSync(join(dir, 'no-ihdr.png'), noIhdr);
  await writeFile(
    join(dir, 'huge-header.png'),
    await withPngSize(await readFile(join(dir, 'small.png')), 6000, 6000),
  );
});

/** The PNG with its IHDR width and height replaced (CRC fixed): the header claims a size the data is not. */
async function withPngSize(png: Buffer, width: number, height: number): Promise<Buffer> {
  const out = Buffer.from(png);
  // signature (8) + length (4) + 'IHDR' (4), then width and height
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const loadAndShow = (file: string, params: Record<string, unknown> = {}) =>
  workflowDoc(
    'limits',
    [
      { id: 'load', type: 'LoadImage', params: { image: file, ...params } },
      { id: 'show', type: 'ShowValue', params: {} },
    ],
    [['load', 'width', 'show', 'value']],
  );

describe('image files: formats', () => {
  it('sniffs PNG, JPEG and WebP by signature, nothing else', async () => {
    const head = async (name: string) => new Uint8Array(await readFile(join(dir, name))).subarray(0, 64);
    expect(sniffImageFormat(await head('small.png'))).toBe('png');
    expect(sniffImageFormat(await head('small.jpg'))).toBe('jpeg');
    expect(sniffImageFormat(await head('small.webp'))).toBe('webp');
    for (const other of ['small.tiff', 'small.gif', 'evil.png', 'empty.png']) {
      expect(sniffImageFormat(await head(other)), other).toBeUndefined();
    }
  });

  it.each(['small.png', 'small.jpg', 'small.webp'])('LoadImage reads %s', async (file) => {
    const result = await createRuntime({ inputsDir: dir, modelsDir: dir }).run(loadAndShow(file));
    expect(result.status).toBe('done');
    expect(result.outputs.load).toMatchObject({ width: 64, height: 48 });
  });

  it.each([
    ['small.tiff', 'a TIFF'],
    ['small.gif', 'a GIF'],
    ['evil.png', 'an SVG'],
    ['empty.png', 'empty'],
  ])('LoadImage refuses %s (%s), naming node and field', async (file, what) => {
    const result = await createRuntime({ inputsDir: dir, modelsDir: dir }).run(loadAndShow(file));
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ nodeId: 'load', field: 'image', code: 'invalid_input' });
    expect(result.error?.message).toContain(`it is ${what}; only PNG, JPEG and WebP files are read`);
  });

  it("reads a PNG's size from its IHDR chunk as sharp does, and leaves other layouts to sharp", async () => {
    for (const [width, height] of [
      [64, 48],
      [1, 4097],
      [70000, 3],
    ]) {
      const png = await sharp({ create: { width, height, channels: 3, background: '#808080' } })
        .png()
        .toBuffer();
      const meta = await sharp(png, { limitInputPixels: false }).metadata();
      expect(pngHeaderSize(png.subarray(0, 64))).toEqual({ width: meta.width, height: meta.height });
      expect(await checkImageFile(png, Number.MAX_SAFE_INTEGER)).toEqual({ format: 'png', width, height });
    }
    const png = await readFile(join(dir, 'small.png'));
    expect(pngHeaderSize(png.subarray(0, 23))).toBeUndefined();
    expect(pngHeaderSize(await readFile(join(dir, 'no-ihdr.png')))).toBeUndefined();
    // sharp reads that one, and refuses it
    await expect(checkImageFile(join(dir, 'no-ihdr.png'))).rejects.toBeInstanceOf(ImageDecodeError);
    expect(await checkImageFile(join(dir, 'small.jpg'))).toEqual({ format: 'jpeg', width: 64, height: 48 });
    expect(await checkImageFile(join(dir, 'small.webp'))).toEqual({ format: 'webp', width: 64, height: 48 });
  });

  it.each([
    ['truncated.png', 'a PNG whose data stops short'],
    ['no-ihdr.png', 'a PNG without IHDR first'],
  ])('LoadImage refuses %s (%s), naming node and field', async (file) => {
    const result = await createRuntime({ inputsDir: dir, modelsDir: dir }).run(loadAndShow(file));
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ nodeId: 'load', field: 'image', code: 'invalid_input' });
    expect(result.error?.message).toContain(`cannot read image ${join(dir, file)}`);
  });

  it('a folder is not an image', async () => {
    const result = await createRuntime({ inputsDir: dir, modelsDir: dir }).run(loadAndShow('folder.png'));
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ nodeId: 'load', field: 'image' });
  });

  it('an empty image param says no image chosen (not a file-system error)', async () => {
    for (const blank of ['', '  ']) {
      const result = await createRuntime({ inputsDir: dir, modelsDir: dir }).run(loadAndShow(blank));
      expect(result.status).toBe('failed');
      expect(result.error).toMatchObject({ nodeId: 'load', field: 'image', code: 'invalid_input' });
      expect(result.error?.message).toContain('no image chosen');
    }
  });
});

describe('image files: pixel limit', () => {
  it('refuses from the header, before decoding, a PNG claiming 6000×6000', async () => {
    const path = join(dir, 'huge-header.png');
    // the pixel data is that of a 64×48 image: decoding would fail differently; the size error comes first
    await expect(checkImageFile(path)).rejects.toBeInstanceOf(ImageTooLargeError);
    await expect(checkImageFile(path)).rejects.toThrow(/6000×6000 \(34\.3 MP\), above the limit of 16 MP/);
    const result = await createRuntime({ inputsDir: dir, modelsDir: dir }).run(
      loadAndShow('huge-header.png'),
    );
    expect(result.error).toMatchObject({ nodeId: 'load', field: 'image', code: 'invalid_input' });
    expect(result.error?.message).toContain('above the limit of 16 MP');
    expect(DEFAULT_MAX_PIXELS).toBe(4096 * 4096);
  });

  it("LoadImage's max_megapixels lowers the limit", async () => {
    const runtime = createRuntime({ inputsDir: dir, modelsDir: dir });
    const refused = await runtime.run(loadAndShow('two-megapixels.png', { max_megapixels: 1 }));
    expect(refused.error).toMatchObject({ nodeId: 'load', field: 'image', code: 'invalid_input' });
    expect(refused.error?.message).toContain('2048×1024 (2 MP), above the limit of 1 MP');
    const allowed = await runtime.run(loadAndShow('two-megapixels.png', { max_megapixels: 2 }));
    expect(allowed.status).toBe('done');
    expect(allowed.outputs.load).toMatchObject({ width: 2048, height: 1024 });
  });

  it("the runtime's maxPixels caps it, whatever the param says", async () => {
    const runtime = createRuntime({ inputsDir: dir, modelsDir: dir, maxPixels: 3000 });
    const result = await runtime.run(loadAndShow('small.png', { max_megapixels: 256 }));
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ nodeId: 'load', field: 'image' });
    const mask = await runtime.run(
      workflowDoc(
        'mask',
        [
          { id: 'mask', type: 'LoadMask', params: { mask: 'small.png' } },
          { id: 'show', type: 'ShowValue', params: {} },
        ],
        [['mask', 'mask', 'show', 'value']],
      ),
    );
    expect(mask.error).toMatchObject({ nodeId: 'mask', field: 'mask' });
    expect(mask.error?.message).toContain('above the limit');
  });
});
