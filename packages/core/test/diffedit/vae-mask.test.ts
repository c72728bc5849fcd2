import { describe, expect, it } from 'vitest';
import {
  SD_VAE_SCALING_FACTOR,
  SeededRng,
  Tensor,
  binariseMask,
  imageToModelRange,
  modelRangeToImage,
  preprocessMask,
  resizeMaskToLatent,
  sampleVaePosterior,
  unscaleLatents,
  vaePosteriorMean,
} from '@diffedit/core';

describe('VAE posterior sampling', () => {
  // B=1, C=2 latent channels, 1×2 pixels: parameters = mean (2 ch) ‖ logvar (2 ch).
  const params = Tensor.from([1, 4, 1, 2], [0.5, -1, 2, 0, /* logvar */ 0, Math.log(4), -100, 50]);
  it('(mean + exp(0.5·clamp(logvar, −30, 20))·noise)·scaling', () => {
    const noise = Tensor.from([1, 2, 1, 2], [1, -1, 2, 0.5]);
    const z = sampleVaePosterior(params, noise, 0.5);
    const expected = [
      (0.5 + 1 * 1) * 0.5,
      (-1 + 2 * -1) * 0.5,
      (2 + Math.exp(-15) * 2) * 0.5,
      (0 + Math.exp(10) * 0.5) * 0.5,
    ];
    expected.forEach((v, i) => expect(Math.abs(z.data[i] - v)).toBeLessThan(Math.abs(v) * 1e-6 + 1e-7));
    expect(z.dims).toEqual([1, 2, 1, 2]);
  });
  it('default scaling factor 0.18215; generator noise equals the same noise as a tensor', () => {
    const a = sampleVaePosterior(params, new SeededRng(3));
    const b = sampleVaePosterior(params, new SeededRng(3).randn([1, 2, 1, 2]), SD_VAE_SCALING_FACTOR);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(vaePosteriorMean(params).data)).toEqual(
      [0.5, -1, 2, 0].map((v) => Math.fround(v * 0.18215)),
    );
    expect(unscaleLatents(Tensor.from([1], [0.18215])).data[0]).toBeCloseTo(1, 6);
  });
  it("a generator's draws are used in float64, one normal() per value in order (same bits as before)", () => {
    const [B, C, h, w] = [3, 4, 2, 3];
    const plane = h * w;
    const values = new SeededRng(11).fillNormal(new Float32Array(B * 2 * C * plane));
    const parameters = new Tensor([B, 2 * C, h, w], values);
    const got = sampleVaePosterior(parameters, new SeededRng(5).fork('posterior'), 0.3);
    const rng = new SeededRng(5).fork('posterior');
    const expected = new Float32Array(B * C * plane);
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        for (let k = 0; k < plane; k++) {
          const mean = values[(b * 2 * C + c) * plane + k];
          const logvar = Math.min(Math.max(values[(b * 2 * C + C + c) * plane + k], -30), 20);
          expected[(b * C + c) * plane + k] = (mean + Math.exp(0.5 * logvar) * rng.normal()) * 0.3;
        }
      }
    }
    expect(Buffer.from(got.data.buffer)).toEqual(Buffer.from(expected.buffer));
  });
  it('rejects an odd channel count and wrong noise shape', () => {
    expect(() => sampleVaePosterior(Tensor.zeros([1, 3, 1, 1]), new SeededRng(1))).toThrow(/mean ‖ logvar/);
    expect(() => sampleVaePosterior(params, Tensor.zeros([1, 2, 2, 1]))).toThrow(/noise/);
  });
});

describe('image range conversion', () => {
  it('[0,1] → [−1,1] and back with clamping', () => {
    expect(Array.from(imageToModelRange(Tensor.from([3], [0, 0.5, 1])).data)).toEqual([-1, 0, 1]);
    expect(Array.from(modelRangeToImage(Tensor.from([4], [-1, 0, 1, 3])).data)).toEqual([0, 0.5, 1, 1]);
  });
});

describe('masks', () => {
  it('binarise: v < 0.5 → 0, v ≥ 0.5 → 1', () => {
    expect(Array.from(binariseMask(Tensor.from([4], [0.49, 0.5, 1, 0])).data)).toEqual([0, 1, 1, 0]);
  });
  it('preprocessMask: shapes, broadcast, binarise, value and size checks (P2)', () => {
    const m = Tensor.from([2, 2], [0.2, 0.7, 0.5, 0]);
    const p = preprocessMask(m, 2, 2, 2);
    expect(p.dims).toEqual([2, 1, 2, 2]);
    expect(Array.from(p.data)).toEqual([0, 1, 1, 0, 0, 1, 1, 0]);
    expect(() => preprocessMask(m, 1, 4, 4)).toThrow(/2×2 but the latents are 4×4.*resizeMaskToLatent/);
    expect(() => preprocessMask(Tensor.from([1, 2], [0, 2]), 1, 1, 2)).toThrow(/\[0, 1\]/);
    expect(() => preprocessMask(Tensor.zeros([1, 2, 2, 2]), 1, 2, 2)).toThrow(/one channel/);
    expect(() => preprocessMask(Tensor.zeros([2, 2, 2]), 3, 2, 2)).toThrow(/batch 2 does not match batch 3/);
  });
  it('preprocessMask tiles for num_images_per_prompt like diffusers ([m0, m1, m0, m1], P8)', () => {
    const two = Tensor.from([2, 1, 1], [1, 0]);
    expect(Array.from(preprocessMask(two, 2, 1, 1, 2).data)).toEqual([1, 0, 1, 0]);
    expect(() => preprocessMask(two, 2, 1, 1, 0)).toThrow(/num_images_per_prompt/);
  });
  it('resizeMaskToLatent: 16×16 image mask → 2×2 latent mask by area, then binarised', () => {
    // Left 9 columns painted: latent column 0 fully, column 1 one-eighth → 0.
    const img = Tensor.from(
      [16, 16],
      Array.from({ length: 256 }, (_, i) => (i % 16 < 9 ? 1 : 0)),
    );
    const m = resizeMaskToLatent(img, 2, 2);
    expect(m.dims).toEqual([1, 1, 2, 2]);
    expect(Array.from(m.data)).toEqual([1, 0, 1, 0]);
    const half = Tensor.from(
      [16, 16],
      Array.from({ length: 256 }, (_, i) => (i % 16 < 12 ? 1 : 0)),
    );
    expect(Array.from(resizeMaskToLatent(half, 2, 2).data)).toEqual([1, 1, 1, 1]);
    expect(Array.from(resizeMaskToLatent(half, 2, 2, 'nearest').data)).toEqual([1, 1, 1, 1]);
  });
});
