import { byteLevelsOf, Tensor, toByteLevels } from '@diffedit/core';
import { describe, expect, it } from 'vitest';

import {
  createRgbImage,
  deinterleaveBytes,
  deinterleaveWords,
  fromUint8,
  interleaveBytes,
  interleavePlanes,
  interleaveWords,
  greyFromMaskBatch,
  imageBatchFromRgb,
  imageBatchFromRgbBytes,
  makeImageGrid,
  MaskToImageNode,
  maskToRgbImage,
  rgbBytesFromImageBatch,
  rgbFromImageBatch,
  rgbListFromImageBatch,
  roundToByteLevels,
  tileImageBatches,
  toUint8,
} from '@diffedit/nodes';

import { recordingContext } from './node-context.js';

/** Values that exercise the edge cases of 8-bit rounding: outside [0, 1], halfway points, NaN. */
function awkwardImage(batch: number, height: number, width: number, seed: number): Tensor {
  const t = new Tensor([batch, 3, height, width]);
  for (let i = 0; i < t.size; i++) t.data[i] = Math.sin((i + seed) * 12.9898) * 0.7 + 0.5;
  t.data[1] = 127.5 / 255;
  t.data[2] = -0;
  t.data[3] = Number.NaN;
  t.data[4] = 1.5;
  return t;
}

// the one-pass conversions give exactly what the two-step float paths they replace gave
describe('one-pass IMAGE conversions', () => {
  it('imageBatchFromRgbBytes = imageBatchFromRgb(fromUint8(bytes))', () => {
    const bytes = Uint8Array.from({ length: 5 * 7 * 3 }, (_, i) => (i * 37) % 256);
    const expected = imageBatchFromRgb([createRgbImage(7, 5, fromUint8(bytes))]);
    const got = imageBatchFromRgbBytes(bytes, 7, 5);
    expect(got.dims).toEqual(expected.dims);
    expect(got.data).toEqual(expected.data);
  });

  it('imageBatchFromRgbBytes four pixels at a time gives what the byte-by-byte pass gives', () => {
    // 8×6: the word path; the same bytes at an odd offset: the byte path
    const bytes = Uint8Array.from({ length: 8 * 6 * 3 }, (_, i) => (i * 151 + (i >> 3)) % 256);
    const expected = imageBatchFromRgb([createRgbImage(8, 6, fromUint8(bytes))]);
    const aligned = imageBatchFromRgbBytes(bytes, 8, 6);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const unaligned = imageBatchFromRgbBytes(shifted.subarray(1), 8, 6);
    expect(aligned.data).toEqual(expected.data);
    expect(unaligned.byteLevels).toEqual(aligned.byteLevels);
    const planar = new Uint8Array(bytes.length);
    const words = new Uint8Array(bytes.length);
    deinterleaveBytes(bytes, planar, 48);
    deinterleaveWords(bytes, words, 48);
    expect(words).toEqual(planar);
  });

  it('interleavePlanes four pixels at a time gives what the byte-by-byte pass gives', () => {
    const plane = 8 * 6;
    const planes = Uint8Array.from({ length: 2 * 3 * plane + 3 }, (_, i) => (i * 151 + (i >> 3)) % 256);
    for (const base of [0, 3 * plane, 1, 3]) {
      const bytes = new Uint8Array(3 * plane);
      interleaveBytes(planes, base, plane, bytes);
      const words = new Uint8Array(3 * plane);
      interleaveWords(planes, base - (base % 4), plane, words); // aligned bases only
      if (base % 4 === 0) expect(words).toEqual(bytes);
      const chosen = new Uint8Array(3 * plane);
      interleavePlanes(planes, base, plane, chosen); // words or bytes, as alignment allows
      expect(chosen).toEqual(bytes);
    }
    // batch image 1 of a byte-level IMAGE, against the interleaving by hand
    const image = Tensor.ofByteLevels([2, 3, 6, 8], planes.subarray(0, 2 * 3 * plane));
    const expected = Uint8Array.from(
      { length: 3 * plane },
      (_, i) => planes[3 * plane + (i % 3) * plane + Math.floor(i / 3)],
    );
    expect(rgbBytesFromImageBatch(image, 1)).toEqual(expected);
  });

  it('rgbBytesFromImageBatch = toUint8(rgbFromImageBatch(batch, i).data), clamping, rounding and NaN alike', () => {
    const batch = awkwardImage(2, 6, 5, 1);
    for (const i of [0, 1])
      expect(rgbBytesFromImageBatch(batch, i)).toEqual(toUint8(rgbFromImageBatch(batch, i).data));
  });

  it('tileImageBatches = makeImageGrid of the images, rounded to 8-bit levels, as an IMAGE', () => {
    const batches = [awkwardImage(1, 4, 6, 2), awkwardImage(2, 4, 6, 3), awkwardImage(1, 4, 6, 4)];
    const grid = makeImageGrid(
      batches.flatMap((b) => rgbListFromImageBatch(b)),
      2,
      2,
    );
    roundToByteLevels(grid.data);
    const expected = imageBatchFromRgb([grid]);
    const got = tileImageBatches(batches, 2, 2, 6, 4);
    expect(got.dims).toEqual([1, 3, 8, 12]);
    expect(got.data).toEqual(expected.data);
    // -0 and NaN are no 8-bit levels: nothing is noted, and the scan refuses the values too
    expect(byteLevelsOf(got.data)).toBeUndefined();
  });

  it('tileImageBatches notes the byte levels it wrote, equal to what a scan of the floats finds', () => {
    const plain = [awkwardImage(1, 4, 6, 5), awkwardImage(1, 4, 6, 6)];
    for (const t of plain) t.data[2] = t.data[3] = 0.25; // no -0, no NaN
    const got = tileImageBatches(plain, 1, 2, 6, 4);
    const scanned = toByteLevels(got.data);
    expect(scanned).toBeDefined();
    expect(byteLevelsOf(got.data)).toEqual(scanned);
    expect(byteLevelsOf(got.data)).not.toBe(toByteLevels(got.data)); // the noted bytes, not a new scan
  });

  it('MaskToImage = maskToRgbImage per mask (nearest upscale), stacked', async () => {
    const mask = new Tensor(
      [2, 1, 3, 4],
      Float32Array.from({ length: 24 }, (_, i) => ((i * 7) % 5) / 4),
    );
    const { image } = (await MaskToImageNode.run(recordingContext().ctx, { mask }, { scale: 3 })) as {
      image: Tensor;
    };
    const expected = imageBatchFromRgb([0, 1].map((b) => maskToRgbImage(greyFromMaskBatch(mask, b), 12, 9)));
    expect(image.dims).toEqual([2, 3, 9, 12]);
    expect(image.data).toEqual(expected.data);
  });
});
