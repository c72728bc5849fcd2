import { describe, expect, it } from 'vitest';
import {
  SeededRng,
  Tensor,
  batchView,
  diffEditBlend,
  diffEditMaskFromUnetOutput,
  diffEditMaskFromUnetRowBlocks,
  maskedBlend,
  sampleVaePosterior,
  sampleVaePosteriorDraws,
} from '@diffedit/core';

// The sampling loops' fused and in-place maths, each compared bit for bit with the functions it replaces on
// random inputs with NaN, ±0, ±Inf and values at the clamps mixed in.
const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1e-45, -3.4e38, 20, -30, 20.000001, -30.000002];

function randomValues(n: number, rng: SeededRng, scale = 4): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] =
      rng.uniform() < 0.1
        ? SPECIAL[Math.floor(rng.uniform() * SPECIAL.length)]
        : (rng.uniform() * 2 - 1) * scale;
  }
  return a;
}

const bitsOf = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('sampleVaePosteriorDraws', () => {
  it.each([1, 3, 10])('gives sampleVaePosterior’s rows, draw for draw (%i samples)', (count) => {
    const rng = new SeededRng(count);
    const [c, h, w] = [4, 5, 7];
    const size = c * h * w;
    const mean = new Tensor([1, c, h, w], randomValues(size, rng));
    // logvar around and beyond the clamps [−30, 20]
    const logvar = new Tensor([1, c, h, w], randomValues(size, rng, 40));
    const parameters = new Tensor([1, 2 * c, h, w]);
    parameters.data.set(mean.data);
    parameters.data.set(logvar.data, size);
    const expected = new Tensor([count, c, h, w]);
    const a = new SeededRng(42).fork('posterior');
    for (let i = 0; i < count; i++) sampleVaePosterior(parameters, a, 0.18215, batchView(expected, i));
    const b = new SeededRng(42).fork('posterior');
    const got = sampleVaePosteriorDraws(mean, logvar, b, 0.18215, new Tensor([count, c, h, w]));
    expect(bitsOf(got.data)).toEqual(bitsOf(expected.data));
    // the generators end in the same state (spare included)
    expect(b.snapshot()).toEqual(a.snapshot());
  });

  it('refuses shapes that do not match', () => {
    const mean = new Tensor([1, 4, 2, 2]);
    expect(() =>
      sampleVaePosteriorDraws(mean, new Tensor([1, 4, 2, 3]), new SeededRng(0), 1, new Tensor([2, 4, 2, 2])),
    ).toThrow(RangeError);
    expect(() => sampleVaePosteriorDraws(mean, mean, new SeededRng(0), 1, new Tensor([2, 3, 2, 2]))).toThrow(
      RangeError,
    );
  });
});

describe('diffEditBlend', () => {
  const cases: [number[], number[]][] = [
    [
      [1, 4, 6, 5],
      [1, 1, 6, 5],
    ],
    [
      [2, 4, 3, 7],
      [2, 1, 3, 7],
    ],
    [
      [2, 4, 3, 7],
      [1, 1, 3, 7],
    ],
    [
      [1, 4, 6, 5],
      [6, 5],
    ],
    [
      [1, 4, 6, 5],
      [1, 4, 6, 5],
    ],
  ];
  it.each(cases)('gives maskedBlend’s bits for latents %j and mask %j, in place too', (dims, maskDims) => {
    const rng = new SeededRng(dims[0] * 10 + maskDims.length);
    const size = dims.reduce((a, b) => a * b, 1);
    const x = new Tensor(dims, randomValues(size, rng));
    const bg = new Tensor(dims, randomValues(size, rng));
    const maskSize = maskDims.reduce((a, b) => a * b, 1);
    // 0/1 as the loops' masks, and fractions and specials
    const mask = new Tensor(
      maskDims,
      Float32Array.from(randomValues(maskSize, rng, 1), (v, i) => (i % 3 === 0 ? v : i % 2)),
    );
    const expected = maskedBlend(x, mask, bg);
    expect(bitsOf(diffEditBlend(x, mask, bg).data)).toEqual(bitsOf(expected.data));
    const inPlace = x.clone();
    diffEditBlend(inPlace, mask, bg, inPlace);
    expect(bitsOf(inPlace.data)).toEqual(bitsOf(expected.data));
  });
});

describe('diffEditMaskFromUnetRowBlocks', () => {
  const split = (t: Tensor, sizes: number[]): Tensor[] => {
    const row = t.size / t.dims[0];
    const blocks: Tensor[] = [];
    let start = 0;
    for (const size of sizes) {
      blocks.push(new Tensor([size, ...t.dims.slice(1)], t.data.slice(start * row, (start + size) * row)));
      start += size;
    }
    return blocks;
  };
  it.each([
    [1, 10, 7.5, [16, 16, 8]],
    [1, 3, 7.5, [5, 5, 2]],
    [2, 3, 4, [7, 1, 9, 7]],
    [1, 10, 7.5, [40]],
    [1, 4, 1, [3, 5]],
  ])('gives the stacked output’s mask (B %i, %i maps, g %d, blocks %j)', (B, n, g, sizes) => {
    const rng = new SeededRng(B * 100 + n);
    const rows = sizes.reduce((a, b) => a + b, 0);
    const [c, h, w] = [4, 6, 5];
    const output = new Tensor([rows, c, h, w], randomValues(rows * c * h * w, rng, 2));
    // specials in some rows only, so that the threshold stays finite for others
    for (let i = 0; i < output.size; i += 97) output.data[i] = [0, -0, 1e-45, -1e-45][i % 4];
    const options = { batchSize: B, numMapsPerMask: n, maskThresholdingRatio: 3 };
    const expected = diffEditMaskFromUnetOutput(output, g, options);
    const got = diffEditMaskFromUnetRowBlocks(split(output, sizes), g, options);
    expect(bitsOf(got.mask.data)).toEqual(bitsOf(expected.mask.data));
    expect(bitsOf(got.map.data)).toEqual(bitsOf(expected.map.data));
    expect(got.mapValues).toEqual(expected.mapValues);
    expect(Object.is(got.clampLevel, expected.clampLevel)).toBe(true);
  });

  it('gives NaN and infinite outputs the same mask as the stacked output', () => {
    const rng = new SeededRng(77);
    const output = new Tensor([8, 4, 3, 3], randomValues(8 * 36, rng));
    const options = { batchSize: 1, numMapsPerMask: 2, maskThresholdingRatio: 3 };
    const expected = diffEditMaskFromUnetOutput(output, 7.5, options);
    const got = diffEditMaskFromUnetRowBlocks(split(output, [3, 3, 2]), 7.5, options);
    expect(bitsOf(got.mask.data)).toEqual(bitsOf(expected.mask.data));
    expect(got.mapValues).toEqual(expected.mapValues);
  });

  it('refuses blocks of different shapes', () => {
    const options = { batchSize: 1, numMapsPerMask: 1, maskThresholdingRatio: 3 };
    expect(() =>
      diffEditMaskFromUnetRowBlocks([new Tensor([2, 4, 2, 2]), new Tensor([2, 4, 2, 3])], 7.5, options),
    ).toThrow(RangeError);
  });
});
