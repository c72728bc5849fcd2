import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { displayBytesOf, noteDisplayBytes, Tensor } from '@diffedit/core';
import { encodeOutputPreview, previewSize } from '@diffedit/nodes';

async function decode(
  png: Uint8Array,
): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

describe('output previews', () => {
  it('fit the longest side within 256 px, never upscaling', () => {
    expect(previewSize(512, 512)).toEqual([256, 256]);
    expect(previewSize(1000, 250)).toEqual([256, 64]);
    expect(previewSize(3, 4000)).toEqual([1, 256]);
    expect(previewSize(40, 20)).toEqual([40, 20]);
  });

  it('encode the first image of an IMAGE batch with its exact pixels when small', async () => {
    // [2, 3, 1, 2]: batch item 0 is red then green; item 1 (ignored) blue.
    const image = new Tensor([2, 3, 1, 2], Float32Array.from([1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1]));
    const preview = (await encodeOutputPreview('IMAGE', image))!;
    expect(preview).toMatchObject({
      mime: 'image/png',
      width: 2,
      height: 1,
      sourceWidth: 2,
      sourceHeight: 1,
      batch: 2,
    });
    const { data, channels } = await decode(preview.bytes);
    expect(channels).toBe(3);
    expect([...data]).toEqual([255, 0, 0, 0, 255, 0]);
  });

  it('read the bytes of 8-bit-level and decoded images: the same PNG as from their floats', async () => {
    const [h, w] = [37, 300];
    const levels = Uint8Array.from({ length: 2 * 3 * h * w }, (_, i) => (i * 53 + (i >> 7)) % 256);
    const bytesImage = Tensor.ofByteLevels([2, 3, h, w], levels);
    const floatsImage = new Tensor(
      [2, 3, h, w],
      Float32Array.from(levels, (k) => k / 255),
    );
    expect(floatsImage.byteLevels).toBeUndefined();
    const fromBytes = (await encodeOutputPreview('IMAGE', bytesImage))!;
    expect(bytesImage.byteLevels).toBe(levels);
    expect(fromBytes.bytes).toEqual((await encodeOutputPreview('IMAGE', floatsImage))!.bytes);
    // a decoded image: values off the levels, outside [0, 1], and its noted display bytes
    const decoded = new Tensor(
      [1, 3, h, w],
      Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * 0.37) * 0.7 + 0.5),
    );
    const plain = (await encodeOutputPreview('IMAGE', decoded))!;
    noteDisplayBytes(decoded.data, displayBytesOf(decoded.data)!);
    expect((await encodeOutputPreview('IMAGE', decoded))!.bytes).toEqual(plain.bytes);
  });

  it('keep a downscaled mask black and white, whatever its layout', async () => {
    const h = 600;
    const w = 300;
    const data = new Float32Array(h * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = y < h / 2 ? 1 : 0; // top half
    for (const mask of [new Tensor([1, 1, h, w], data), new Tensor([h, w], data)]) {
      const preview = (await encodeOutputPreview('MASK', mask))!;
      expect([preview.width, preview.height, preview.batch]).toEqual([128, 256, 1]);
      const pixels = await decode(preview.bytes);
      for (let y = 0; y < 256; y++)
        for (let x = 0; x < 128; x++)
          expect(pixels.data[(y * 128 + x) * pixels.channels], `${x},${y}`).toBe(y < 128 ? 255 : 0);
    }
  });

  it('skip what is not an IMAGE or MASK value, and empty batches', async () => {
    expect(await encodeOutputPreview('IMAGE', 'text')).toBeUndefined();
    expect(await encodeOutputPreview('IMAGE', new Tensor([1, 1, 4, 4]))).toBeUndefined();
    expect(await encodeOutputPreview('IMAGE', new Tensor([0, 3, 4, 4]))).toBeUndefined();
    expect(await encodeOutputPreview('MASK', new Tensor([2, 2, 2, 2, 2]))).toBeUndefined();
  });
});
