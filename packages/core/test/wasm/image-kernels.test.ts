import { describe, expect, it } from 'vitest';
import { SeededRng, Tensor, decodedToImage, modelRangeToImage } from '@diffedit/core';

import { displayBytesOf } from '../../src/tensor/display-bytes.js';
import { imageKernelsAvailable, wasmDecodedToImage } from '../../src/wasm/image-kernels.js';

const bitsOf = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
const CHUNK = 1 << 16;

/**
 * Decoder outputs: mostly within ±1.2, with ±0, ±1, ±∞, huge and tiny values, and the values that land on a
 * rounding boundary of the display byte ((k + 0.5) / 255 in the image) mixed in (no NaN).
 */
function decoderValues(n: number, rng: SeededRng): Float32Array {
  // with the tiny values whose half float32 rounds (subnormals) and the ones at a tie of 0.5 + x / 2
  const special = [
    0,
    -0,
    1,
    -1,
    Infinity,
    -Infinity,
    3e38,
    -3e38,
    1e-30,
    -1e-30,
    1e-45,
    -1e-45,
    3e-45,
    -1e-40,
  ];
  special.push(0.5, -0.5, 2 ** -25, -(2 ** -25), -3 * 2 ** -25, 3 * 2 ** -25, -(2 ** -24), 1 - 2 ** -24);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const pick = rng.uniform();
    if (pick < 0.1) out[i] = special[Math.floor(rng.uniform() * special.length)];
    else if (pick < 0.2) out[i] = (2 * (Math.floor(rng.uniform() * 255) + 0.5)) / 255 - 1;
    else out[i] = rng.uniform() * 2.4 - 1.2;
  }
  return out;
}

/** modelRangeToImage then displayBytesOf: the bits the kernel must give. */
function expected(decoded: Float32Array): { image: Float32Array; bytes: Uint8Array | undefined } {
  const image = modelRangeToImage(new Tensor([decoded.length], decoded)).data;
  return { image, bytes: displayBytesOf(image) };
}

describe('the decoded image kernel (WebAssembly)', () => {
  it('runs on this engine (WebAssembly SIMD), so the decode does not silently take the JavaScript path', () => {
    expect(imageKernelsAvailable()).toBe(true);
  });

  it('gives the JavaScript loops’ image and display bytes, odd and even lengths, across chunks', () => {
    const rng = new SeededRng(11);
    for (const n of [1, 2, 3, 4097, 3 * 64 * 64, 2 * CHUNK + 3]) {
      const decoded = decoderValues(n, rng);
      const want = expected(decoded);
      const image = new Float32Array(n);
      const bytes = new Uint8Array(n);
      expect(wasmDecodedToImage(decoded, image, bytes)).toBe(n);
      expect(bitsOf(image)).toEqual(bitsOf(want.image));
      expect(bytes).toEqual(want.bytes);
    }
  });

  it('stops at the chunk that holds a NaN, with the chunks before it done and the rest untouched', () => {
    const rng = new SeededRng(5);
    const n = 2 * CHUNK + 10;
    const decoded = decoderValues(n, rng);
    decoded[CHUNK + 7] = NaN;
    const want = expected(decoded);
    const image = new Float32Array(n).fill(9);
    const bytes = new Uint8Array(n).fill(9);
    expect(wasmDecodedToImage(decoded, image, bytes)).toBe(CHUNK);
    expect(bitsOf(image.subarray(0, CHUNK))).toEqual(bitsOf(want.image.subarray(0, CHUNK)));
    expect(bytes.subarray(0, CHUNK)).toEqual(displayBytesOf(want.image.subarray(0, CHUNK)));
    expect(image.subarray(CHUNK).every((v) => v === 9) && bytes.subarray(CHUNK).every((v) => v === 9)).toBe(
      true,
    );
  });

  it('decodedToImage: the same image in place, and no display bytes for an image with a NaN', () => {
    const rng = new SeededRng(8);
    for (const nanAt of [undefined, 3, CHUNK + 1]) {
      const decoded = decoderValues(CHUNK + 50, rng);
      if (nanAt !== undefined) decoded[nanAt] = NaN;
      const want = expected(decoded);
      const inPlace = new Tensor([decoded.length], decoded.slice());
      const got = decodedToImage(inPlace, inPlace);
      expect(got.image).toBe(inPlace);
      expect(bitsOf(got.image.data)).toEqual(bitsOf(want.image));
      expect(got.display).toEqual(want.bytes);
      expect(want.bytes === undefined).toBe(nanAt !== undefined);
    }
  });
});
