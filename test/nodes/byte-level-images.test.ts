import { fromByteLevels, imageToModelRange, OutputCache, Tensor, toByteLevels } from '@diffedit/core';
import { describe, expect, it } from 'vitest';

import {
  fitPreviewProjection,
  MaskToImageNode,
  previewBlockSums,
  resizePlaneNearest,
  tileImageBatches,
  tileImageBatchesAsFloats,
} from '@diffedit/nodes';

import { recordingContext } from './node-context.js';

/** Bitwise equality of two float arrays (NaN and -0 included). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** A float image with values outside [0, 1] and between levels, but no -0 or NaN. */
function floatImage(batch: number, height: number, width: number, seed: number): Tensor {
  const t = new Tensor([batch, 3, height, width]);
  for (let i = 0; i < t.size; i++) t.data[i] = Math.sin((i + seed) * 12.9898) * 0.7 + 0.5;
  t.data[1] = 127.5 / 255;
  t.data[5] = 0;
  return t;
}

/** resizePlaneNearest as it was: every output pixel gathered with torch's index rule. */
function gatherNearest(src: Uint8Array, inW: number, inH: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(inH - 1, Math.floor(y * (inH / height)));
    for (let x = 0; x < width; x++)
      out[y * width + x] = src[sy * inW + Math.min(inW - 1, Math.floor(x * (inW / width)))];
  }
  return out;
}

describe('resizePlaneNearest', () => {
  it('copies repeated rows and gives what gathering every pixel gives, up, down and uneven', () => {
    const src = randomBytes(64 * 48, 5);
    for (const [width, height] of [
      [512, 384],
      [64, 48],
      [32, 20],
      [100, 77],
      [7, 300],
    ]) {
      const out = new Uint8Array(width * height);
      resizePlaneNearest(src, 64, 48, out, width, height);
      expect(out).toEqual(gatherNearest(src, 64, 48, width, height));
      const floats = new Float32Array(width * height);
      resizePlaneNearest(Float32Array.from(src), 64, 48, floats, width, height);
      expect(floats).toEqual(Float32Array.from(out));
    }
  });
});

describe('IMAGE tensors held as 8-bit levels', () => {
  it('compute their floats from the bytes on first read, the values fromByteLevels gives', () => {
    const bytes = randomBytes(2 * 3 * 5 * 4, 7);
    const t = Tensor.ofByteLevels([2, 3, 5, 4], bytes);
    expect(t.size).toBe(bytes.length);
    expect(t.byteLevels).toBe(bytes);
    expect(sameBits(t.data, fromByteLevels(bytes))).toBe(true);
    expect(t.data).toBe(t.data); // computed once
    expect(t.byteLevels).toBe(bytes);
    expect(sameBits(t.reshape([6, 20]).data, t.data)).toBe(true);
    expect(sameBits(t.clone().data, t.data)).toBe(true);
    expect(() => Tensor.ofByteLevels([2, 3], bytes)).toThrow(/levels/);
  });

  it('tile into a grid held as bytes with the same values as the float tiling, bit for bit', () => {
    const loaded = Tensor.ofByteLevels([1, 3, 6, 5], randomBytes(90, 3));
    const decoded = floatImage(2, 6, 5, 11);
    const grid = tileImageBatches([loaded, decoded], 1, 3, 5, 6);
    const floats = tileImageBatchesAsFloats([loaded, decoded], 1, 3, 5, 6);
    expect(grid.dims).toEqual([1, 3, 6, 15]);
    expect(grid.byteLevels).toBeDefined();
    expect(sameBits(grid.data, floats.data)).toBe(true);
    expect(toByteLevels(floats.data)).toEqual(grid.byteLevels);
  });

  it('tile sources holding -0 or NaN as floats, passing them through', () => {
    const odd = floatImage(1, 4, 4, 5);
    odd.data[2] = -0;
    odd.data[3] = Number.NaN;
    const grid = tileImageBatches([odd], 1, 1, 4, 4);
    expect(grid.byteLevels).toBeUndefined();
    expect(Object.is(grid.data[2], -0)).toBe(true);
    expect(grid.data[3]).toBeNaN();
    expect(sameBits(grid.data, tileImageBatchesAsFloats([odd], 1, 1, 4, 4).data)).toBe(true);
  });

  it('go to the VAE range from their bytes with the same values as from their floats', () => {
    const bytes = Uint8Array.from({ length: 3 * 256 }, (_, i) => i % 256);
    const lazy = Tensor.ofByteLevels([1, 3, 16, 16], bytes);
    const eager = new Tensor([1, 3, 16, 16], fromByteLevels(bytes));
    expect(sameBits(imageToModelRange(lazy).data, imageToModelRange(eager).data)).toBe(true);
  });

  it('fit the preview projection from bytes as from floats, and as the per-cell sums did', () => {
    const [c, h, w, f] = [4, 3, 5, 8];
    const bytes = randomBytes(3 * h * f * w * f, 9);
    const floats = fromByteLevels(bytes);
    const latent = Float32Array.from({ length: c * h * w }, (_, i) => Math.cos(i * 0.37));
    const fromBytes = fitPreviewProjection(bytes, latent, c, h, w, f);
    expect(fitPreviewProjection(floats, latent, c, h, w, f)).toEqual(fromBytes);
    // arbitrary floats too: each cell's sum adds the same values in the same order as a loop per cell
    const image = Float32Array.from(floats, (v, i) => v + Math.sin(i) * 1e-3);
    expect(previewBlockSums(image, h * w, w, h, f)).toEqual(sumsPerCell(image, h, w, f));
    expect(previewBlockSums(bytes, h * w, w, h, f)).toEqual(sumsPerCell(floats, h, w, f));
  });

  it('MaskToImage of a 0/1 mask: bytes, with the values of the float path', async () => {
    const mask = new Tensor([2, 1, 3, 4]);
    mask.data.forEach((_, i) => (mask.data[i] = (i * 7) % 3 === 0 ? 1 : 0));
    const { image } = (await MaskToImageNode.run(recordingContext().ctx, { mask }, { scale: 3 })) as {
      image: Tensor;
    };
    expect(image.byteLevels).toBeDefined();
    const expected = new Float32Array(2 * 3 * 9 * 12);
    for (let b = 0; b < 2; b++) {
      const plane = new Float32Array(9 * 12);
      resizePlaneNearest(mask.data.subarray(b * 12, (b + 1) * 12), 4, 3, plane, 12, 9);
      for (let ch = 0; ch < 3; ch++) expected.set(plane, (b * 3 + ch) * plane.length);
    }
    expect(sameBits(image.data, expected)).toBe(true);
    // a mask that is not made of levels takes the float path, same values
    mask.data[0] = 0.3;
    const { image: soft } = (await MaskToImageNode.run(recordingContext().ctx, { mask }, { scale: 3 })) as {
      image: Tensor;
    };
    expect(soft.byteLevels).toBeUndefined();
    expect(soft.data[0]).toBe(Math.fround(0.3));
  });

  it('are cached as their bytes, and come back from the cache with the same values', () => {
    const bytes = randomBytes(3 * 8 * 8, 1);
    const cache = new OutputCache(1 << 20);
    cache.set('k', { outputs: { image: Tensor.ofByteLevels([1, 3, 8, 8], bytes) }, artifacts: [] });
    expect(cache.stats().bytes).toBe(bytes.length + 4 * 8);
    const hit = cache.get('k')!.outputs.image as Tensor;
    expect(hit.byteLevels).toEqual(bytes);
    expect(sameBits(hit.data, fromByteLevels(bytes))).toBe(true);
  });
});

/** Each cell's channel sums as fitPreviewProjection computed them before: cell by cell, rows then columns. */
function sumsPerCell(image: Float32Array, h: number, w: number, f: number): Float64Array {
  const bigW = w * f;
  const bigPlane = h * f * bigW;
  const sums = new Float64Array(3 * h * w);
  for (let k = 0; k < 3; k++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let sum = 0;
        for (let dy = 0; dy < f; dy++)
          for (let dx = 0; dx < f; dx++) sum += image[k * bigPlane + (y * f + dy) * bigW + x * f + dx];
        sums[(k * h + y) * w + x] = sum;
      }
  return sums;
}
