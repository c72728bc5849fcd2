import { describe, expect, it } from 'vitest';

import { latentToPreviewBytes, latentToPreviewRgb } from '../../src/pixels/latent-preview.js';
import { toUint8 } from '../../src/pixels/rgb-image.js';
import { TEST_PROJECTION } from './preview-projection.js';

const projection = TEST_PROJECTION;

/** The preview written the plain way: each pixel's channels projected and mapped to [0, 1]. */
function reference(latent: Float32Array, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      for (let k = 0; k < 3; k++) {
        let v: number = projection.bias[k];
        for (let ch = 0; ch < Math.min(c, projection.weights.length); ch++)
          v += latent[ch * h * w + p] * projection.weights[ch][k];
        const unit = v / 2 + 0.5;
        out[p * 3 + k] = unit < 0 ? 0 : unit > 1 ? 1 : unit;
      }
    }
  }
  return out;
}

/** Bit-equal arrays (a byte comparison: toEqual walks 200k elements slowly; it runs only to show a mismatch). */
function expectSameBits(got: Float32Array | Uint8Array, expected: Float32Array | Uint8Array): void {
  const bytes = (a: Float32Array | Uint8Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if (!bytes(got).equals(bytes(expected))) expect(got).toEqual(expected);
  expect(got.length).toBe(expected.length);
}

describe('latent previews', () => {
  let seed = 11;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 8 - 4;

  it.each([
    [4, 5, 7],
    [4, 32, 32],
    [3, 1, 9],
    [5, 6, 1],
  ])('are the projection at the latent size, value for value (%i channels, %i×%i)', (c, h, w) => {
    const latent = Float32Array.from({ length: c * h * w }, random);
    latent.set([NaN, Infinity, -Infinity, 0, 255 / 510 - 0.5].slice(0, latent.length), 0);
    const expected = reference(latent, c, h, w);
    const rgb = latentToPreviewRgb(latent, c, h, w, projection);
    expect([rgb.width, rgb.height]).toEqual([w, h]);
    expectSameBits(rgb.data, expected);
    const bytes = latentToPreviewBytes(latent, c, h, w, projection);
    expect([bytes.width, bytes.height]).toEqual([w, h]);
    expectSameBits(bytes.rgb, toUint8(expected));
  });
});
