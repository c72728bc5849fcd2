import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { toByteLevels } from '@diffedit/core';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import {
  asciiJson,
  createGreyImage,
  createRgbImage,
  decodeImage,
  encodePlanarRgbBytesPng,
  encodePngWithText,
  encodePreviewPng,
  encodeRgbBytesPng,
  fitMaskTo,
  fitPreviewProjection,
  ImageDecodeError,
  latentToPreviewBytes,
  latentToPreviewRgb,
  makeImageGrid,
  maskToRgbImage,
  readPngTextChunks,
  roundToByteLevels,
  toUint8,
  resizeRgbNearest,
  rgbImageToBinaryMask,
} from '../../src/pixels/index.js';
import { TEST_PROJECTION, TOY_PROJECTION } from './preview-projection.js';

const dir = mkdtempSync(join(tmpdir(), 'imaging-'));

async function writePng(name: string, raw: Buffer, width: number, height: number, channels: 1 | 3 | 4) {
  const path = join(dir, name);
  await sharp(raw, { raw: { width, height, channels } }).png().toFile(path);
  return path;
}

describe('decodeImage', () => {
  it('drops alpha and keeps colours exactly when no resize is needed', async () => {
    const raw = Buffer.alloc(16 * 8 * 4);
    for (let p = 0; p < 16 * 8; p++) raw.set([200, 10, 50, p % 2 ? 0 : 255], p * 4);
    const image = await decodeImage(await writePng('rgba.png', raw, 16, 8, 4));
    expect([image.width, image.height, image.data.length]).toEqual([16, 8, 16 * 8 * 3]);
    expect(Array.from(image.data.subarray(0, 6)).map((v) => Math.round(v * 255))).toEqual([
      200, 10, 50, 200, 10, 50,
    ]);
  });

  it('expands greyscale to three equal channels', async () => {
    const raw = Buffer.alloc(8 * 8, 77);
    const image = await decodeImage(await writePng('grey.png', raw, 8, 8, 1));
    expect(image.data.length).toBe(8 * 8 * 3);
    expect(Math.round(image.data[0] * 255)).toBe(77);
    expect(image.data[1]).toBe(image.data[0]);
    expect(image.data[2]).toBe(image.data[0]);
  });

  it('floors the size to multiples of 8 and resizes to a requested size', async () => {
    const raw = Buffer.alloc(21 * 13 * 3, 128);
    const path = await writePng('odd.png', raw, 21, 13, 3);
    const kept = await decodeImage(path);
    expect([kept.width, kept.height]).toEqual([16, 8]);
    const sized = await decodeImage(path, { width: 34, height: 27 });
    expect([sized.width, sized.height]).toEqual([32, 24]);
    // a flat image stays flat under Lanczos
    expect(Math.round(sized.data[100] * 255)).toBe(128);
  });

  it('resizes with a Lanczos kernel: a step edge rings (nearest or bilinear would stay within 100…200)', async () => {
    const raw = Buffer.alloc(16 * 8 * 3);
    for (let p = 0; p < 16 * 8; p++) raw.fill(p % 16 < 8 ? 100 : 200, p * 3, p * 3 + 3);
    const image = await decodeImage(await writePng('step.png', raw, 16, 8, 3), { width: 64, height: 32 });
    const row = Array.from({ length: 64 }, (_, x) => Math.round(image.data[(5 * 64 + x) * 3] * 255));
    expect(Math.min(...row)).toBeLessThan(97);
    expect(Math.max(...row)).toBeGreaterThan(203);
    expect([row[0], row[63]]).toEqual([100, 200]);
  });

  it('names the path of a missing or broken file', async () => {
    const missing = join(dir, 'nope.png');
    await expect(decodeImage(missing)).rejects.toThrow(ImageDecodeError);
    await expect(decodeImage(missing)).rejects.toThrow(missing);
    const broken = join(dir, 'broken.png');
    writeFileSync(broken, 'not an image');
    await expect(decodeImage(broken)).rejects.toThrow(broken);
  });
});

describe('PNG text chunks', () => {
  it('round-trips the workflow JSON, including non-ASCII text, and keeps the pixels', async () => {
    const image = createRgbImage(8, 8);
    image.data.fill(0.5);
    image.data[0] = 1;
    const workflow = { nodes: { a: { prompt: 'a red apple — «pomme»', n: 1.5 } } };
    const png = await encodePngWithText(image, { workflow: asciiJson(workflow), note: 'hi' });
    const texts = readPngTextChunks(png);
    expect(JSON.parse(texts.workflow)).toEqual(workflow);
    expect(texts.note).toBe('hi');
    const decoded = await decodeImage(png, {}, 'png');
    expect(decoded.data[0]).toBe(1);
    expect(Math.round(decoded.data[5] * 255)).toBe(128);
  });

  it('rejects text that tEXt cannot hold', async () => {
    await expect(encodePngWithText(createRgbImage(8, 8), { workflow: '→' })).rejects.toThrow(/Latin-1/);
    // a character outside the BMP (two UTF-16 code units), or a lone surrogate half
    await expect(encodePngWithText(createRgbImage(8, 8), { a: 'x🍐' })).rejects.toThrow(/Latin-1/);
    await expect(encodePngWithText(createRgbImage(8, 8), { a: '\ud800' })).rejects.toThrow(/Latin-1/);
    const latin1 = 'ÿ é\u00a0';
    expect(readPngTextChunks(await encodePngWithText(createRgbImage(8, 8), { a: latin1 })).a).toBe(latin1);
  });

  it('encodes a preview quickly with the same pixels', async () => {
    const [width, height] = [24, 16];
    const rgb = new Uint8Array(3 * width * height);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 53 + (i >> 5)) & 255;
    const preview = encodePreviewPng(rgb, width, height);
    const { data, info } = await sharp(preview).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([width, height, 3]);
    expect(Buffer.compare(data, Buffer.from(rgb))).toBe(0);
  });

  it('encodes previews of any size that PNG decoders read back exactly, and refuses a wrong length', async () => {
    for (const [width, height] of [
      [1, 1],
      [1, 7],
      [128, 128],
      [200, 3],
    ]) {
      const rgb = new Uint8Array(3 * width * height);
      for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 31 + (i >> 7) * 5) & 255;
      const preview = encodePreviewPng(rgb, width, height);
      // zlib checks the stream, libvips the chunks' CRCs
      const { data, info } = await sharp(preview).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([width, height, 3]);
      expect(Buffer.compare(data, Buffer.from(rgb))).toBe(0);
      expect(readPngTextChunks(preview)).toEqual({});
    }
    expect(() => encodePreviewPng(new Uint8Array(11), 2, 2)).toThrow(RangeError);
    expect(() => encodePreviewPng(new Uint8Array(0), 0, 0)).toThrow(RangeError);
  });

  it('without texts is the PNG file sharp writes, byte for byte', async () => {
    const [width, height] = [19, 11];
    const rgb = new Uint8Array(3 * width * height);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 97 + (i >> 3)) & 255;
    const ours = await encodeRgbBytesPng(rgb, width, height);
    const theirs = await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
    expect(Buffer.compare(ours, theirs)).toBe(0);
    expect(readPngTextChunks(ours)).toEqual({});
  });
});

describe('grid, masks, conversions, previews', () => {
  it('lays images out row by row like make_image_grid', () => {
    const cells = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6].map((v) => {
      const im = createRgbImage(2, 3);
      im.data.fill(v);
      return im;
    });
    const grid = makeImageGrid(cells, 2, 3);
    expect([grid.width, grid.height]).toEqual([6, 6]);
    const at = (x: number, y: number) => grid.data[(y * 6 + x) * 3];
    expect([at(0, 0), at(2, 0), at(5, 2), at(0, 3), at(4, 5)].map((v) => Math.round(v * 10))).toEqual([
      1, 2, 3, 4, 6,
    ]);
    expect(() => makeImageGrid(cells, 2, 2)).toThrow(/needs 4 images/);
  });

  it('upscales masks with nearest neighbour and fits painted masks to the latent grid', () => {
    const mask = createGreyImage(2, 2, Float32Array.from([1, 0, 0, 1]));
    const shown = maskToRgbImage(mask, 4, 4);
    const px = (x: number, y: number) => shown.data[(y * 4 + x) * 3];
    expect([px(0, 0), px(1, 1), px(2, 0), px(3, 3), px(0, 3)]).toEqual([1, 1, 0, 1, 0]);
    const painted = createRgbImage(16, 16);
    for (let y = 0; y < 16; y++)
      for (let x = 8; x < 16; x++) painted.data.fill(0.9, (y * 16 + x) * 3, (y * 16 + x) * 3 + 3);
    const rgb = resizeRgbNearest(
      createRgbImage(2, 1, Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])),
      4,
      2,
    );
    expect(Array.from(rgb.data.subarray(0, 12), (v) => Math.round(v * 10))).toEqual([
      1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6,
    ]);
    expect(Array.from(rgb.data.subarray(12), (v) => Math.round(v * 10))).toEqual([
      1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6,
    ]);
    const fitted = fitMaskTo(rgbImageToBinaryMask(painted), 4, 4);
    expect(Array.from(fitted.data)).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
  });

  it('previews toy latents as their colour', () => {
    // 4 channels, 1×2: pixel 0 red, pixel 1 blue
    const latent = [1, -1, -1, -1, -1, 1, 0, 0];
    const toy = TOY_PROJECTION;
    const rgb = latentToPreviewRgb(latent, 4, 1, 2, toy);
    expect([rgb.width, rgb.height]).toEqual([2, 1]);
    expect(Array.from(rgb.data)).toEqual([1, 0, 0, 0, 0, 1]);
  });
});

describe('latentToPreviewBytes', () => {
  it('gives the bytes of toUint8(latentToPreviewRgb)', () => {
    const projection = TEST_PROJECTION;
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 8 - 4;
    const [c, h, w] = [4, 5, 7];
    const latent = Float32Array.from({ length: c * h * w }, random);
    // NaN, infinities and values that land exactly on a rounding boundary
    latent.set([NaN, Infinity, -Infinity, 0, 255 / 510 - 0.5], 0);
    const floats = latentToPreviewRgb(latent, c, h, w, projection);
    const bytes = latentToPreviewBytes(latent, c, h, w, projection);
    expect([bytes.width, bytes.height]).toEqual([w, h]);
    expect(bytes.rgb).toEqual(toUint8(floats.data));
  });
});

describe('fitPreviewProjection', () => {
  it('recovers a linear latent → colour map from an image and its latent, ignoring a channel that never varies', () => {
    const [c, h, w, f] = [4, 6, 5, 2];
    const weights = [
      [0.5, -0.2, 0.1],
      [0.0, 0.4, -0.3],
      [-0.25, 0.1, 0.6],
    ];
    const bias = [0.1, -0.05, 0.2];
    const latent = new Float32Array(c * h * w);
    for (let i = 0; i < 3 * h * w; i++) latent[i] = 0.4 * (Math.sin(i * 1.7) + Math.cos(i * 0.3));
    latent.fill(0.7, 3 * h * w); // channel 3 constant: it cannot be told from the bias
    const image = new Float32Array(3 * h * f * w * f);
    for (let k = 0; k < 3; k++)
      for (let y = 0; y < h * f; y++)
        for (let x = 0; x < w * f; x++) {
          const p = Math.floor(y / f) * w + Math.floor(x / f);
          let signed = bias[k];
          for (let ch = 0; ch < 3; ch++) signed += latent[ch * h * w + p] * weights[ch][k];
          image[k * h * f * w * f + y * w * f + x] = (signed + 1) / 2;
        }
    const fitted = fitPreviewProjection(image, latent, c, h, w, f);
    for (let ch = 0; ch < 3; ch++)
      for (let k = 0; k < 3; k++) expect(fitted.weights[ch][k]).toBeCloseTo(weights[ch][k], 1);
    // the constant channel's share lands in the bias: the map reproduces the colours
    const rgb = latentToPreviewRgb(latent, c, h, w, fitted);
    for (let p = 0; p < h * w; p++) {
      for (let k = 0; k < 3; k++) {
        const x = (p % w) * f;
        const y = Math.floor(p / w) * f;
        expect(rgb.data[p * 3 + k]).toBeCloseTo(image[k * h * f * w * f + y * w * f + x], 1);
      }
    }
  });
});

describe('roundToByteLevels', () => {
  it('rounds in place to k/255 floats that save to the same 8-bit pixels and pack to bytes', () => {
    const floats = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i * 12.9898) * 0.7 + 0.5); // some < 0 or > 1
    const rounded = roundToByteLevels(floats.slice());
    expect(toUint8(rounded)).toEqual(toUint8(floats));
    expect(toByteLevels(rounded)).toEqual(toUint8(floats));
  });
});

describe('encodePlanarRgbBytesPng', () => {
  it('writes the same PNG file as the interleaved bytes, text chunks included', async () => {
    const [width, height] = [37, 23];
    const plane = width * height;
    const planar = new Uint8Array(3 * plane + 5).subarray(5); // a view at an offset, as a batch's image is
    for (let i = 0; i < planar.length; i++) planar[i] = (i * 131 + (i >> 4)) & 255;
    const interleaved = new Uint8Array(3 * plane);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) interleaved[3 * p + c] = planar[c * plane + p];
    }
    const texts = { workflow: '{"a":1}' };
    // sharp's own default level, and the levels at either end
    for (const level of [undefined, 0, 4, 9]) {
      const a = await encodePlanarRgbBytesPng(planar, width, height, texts, level);
      const b = await encodeRgbBytesPng(interleaved, width, height, texts, level);
      expect(Buffer.compare(a, b), `level ${level}`).toBe(0);
      const { data, info } = await sharp(a).raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(3);
      expect(Buffer.compare(data, Buffer.from(interleaved))).toBe(0);
      expect(readPngTextChunks(a)).toEqual(texts);
    }
    // no level given: sharp's default (6), the bytes SaveImage wrote before it had a level
    const sharpDefault = await sharp(Buffer.from(interleaved), { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
    expect(Buffer.compare(await encodeRgbBytesPng(interleaved, width, height), sharpDefault)).toBe(0);
    await expect(encodePlanarRgbBytesPng(planar.subarray(1), width, height)).rejects.toThrow(/bytes for 3×/);
  });
});
