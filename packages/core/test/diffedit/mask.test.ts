import { describe, expect, it } from 'vitest';
import {
  Tensor,
  concatBatch,
  diffEditMaskFromEstimates,
  diffEditMaskFromUnetOutput,
  maskGuidedEstimates,
  maskToInt64,
  maskUnetBatchLayout,
} from '@diffedit/core';

const f64 = (dims: number[], f: (k: number) => number) => ({
  dims,
  data: Float64Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, k) => f(k)),
});

describe('generate_mask reduction, spec §9 example (B=1, n=2, C=4, 3×3)', () => {
  const S = f64([2, 4, 3, 3], (k) => Math.sin(k));
  const Tg = f64([2, 4, 3, 3], (k) => Math.sin(k) + (k % 5 === 0 ? 0.3 * Math.cos(0.7 * k) : 0));
  const r = diffEditMaskFromEstimates(S, Tg, { batchSize: 1, numMapsPerMask: 2, maskThresholdingRatio: 3 });
  it('map and clamp level to 1e-9', () => {
    const expected = [
      0.0748675465, 0.0543739337, 0.0071177158, 0.0205398473, 0.03609772, 0.0690055835, 0.0328320841,
      0.019501219, 0.030240356,
    ];
    expected.forEach((v, i) => expect(Math.abs(r.mapValues[i] - v)).toBeLessThan(1e-9));
    expect(Math.abs(r.clampLevel - 0.114858668612)).toBeLessThan(1e-9);
    expect(r.map.dims).toEqual([1, 3, 3]);
  });
  it('mask = [[1,0,0],[0,0,1],[0,0,0]], also as int64', () => {
    expect(Array.from(r.mask.data)).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0]);
    const i64 = maskToInt64(r.mask);
    expect(i64.dtype).toBe('int64');
    expect(i64.dims).toEqual([1, 3, 3]);
    expect(i64.toNumbers()).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0]);
  });
  it('the threshold is a strict map > ratio/2 · mean', () => {
    // A pixel exactly at M/2 stays 0 (m ≤ 0.5 → 0).
    const src = f64([1, 1, 1, 2], () => 0);
    const tgt = f64([1, 1, 1, 2], (k) => (k === 0 ? 1 : 3));
    // mean = 2, M = 2·ratio(1) = 2 → map/M = [0.5, 1] → [0, 1]
    const m = diffEditMaskFromEstimates(src, tgt, {
      batchSize: 1,
      numMapsPerMask: 1,
      maskThresholdingRatio: 1,
    });
    expect(Array.from(m.mask.data)).toEqual([0, 1]);
  });
  it('the clamp level is shared across the batch (pitfall P8)', () => {
    // Image 1 has much larger differences; image 0's mask changes when it is batched with image 1.
    // Alone: mean 5, 9 > 1.5·5 → [0, 1]. Batched: mean 30, threshold 45 → image 0 loses its pixel.
    const alone = diffEditMaskFromEstimates(
      f64([1, 1, 1, 2], () => 0),
      f64([1, 1, 1, 2], (k) => [1, 9][k]),
      {
        batchSize: 1,
        numMapsPerMask: 1,
      },
    );
    const batched = diffEditMaskFromEstimates(
      f64([2, 1, 1, 2], () => 0),
      f64([2, 1, 1, 2], (k) => [1, 9, 50, 60][k]),
      { batchSize: 2, numMapsPerMask: 1 },
    );
    expect(Array.from(alone.mask.data)).toEqual([0, 1]);
    expect(Array.from(batched.mask.data)).toEqual([0, 0, 1, 1]);
  });
  it('identical estimates: clamp level 0 and an all-ones mask, as in diffusers', () => {
    const m = diffEditMaskFromEstimates(S, S, { batchSize: 1, numMapsPerMask: 2 });
    expect(m.clampLevel).toBe(0);
    expect(Array.from(m.mask.data)).toEqual(new Array<number>(9).fill(1));
  });
  it('rejects bad options with clear errors', () => {
    expect(() => diffEditMaskFromEstimates(S, Tg, { batchSize: 1, numMapsPerMask: 3 })).toThrow(/B·n = 1·3/);
    expect(() => diffEditMaskFromEstimates(S, Tg, { batchSize: 1, numMapsPerMask: 0 })).toThrow(
      /num_maps_per_mask/,
    );
    expect(() =>
      diffEditMaskFromEstimates(S, Tg, { batchSize: 1, numMapsPerMask: 2, maskThresholdingRatio: 0 }),
    ).toThrow(/mask_thresholding_ratio/);
  });
});

describe('generate_mask embedding order (spec §5 quirk)', () => {
  const g = 7.5;
  const shape = [2, 4, 8, 8]; // B·n = 2 rows
  const size = 2 * 4 * 64;
  const pixel = (k: number) => k % 64;
  const inA = (k: number) => pixel(k) < 8; // first latent row: the positive prompts differ here
  const inB = (k: number) => pixel(k) >= 56; // last latent row: the negative prompts differ here
  const t = (f: (k: number) => number) =>
    Tensor.from(
      shape,
      Array.from({ length: size }, (_, k) => f(k)),
    );
  const source = t((k) => Math.sin(k * 0.9));
  const sourceNegative = t((k) => Math.cos(k * 1.3));
  const eps = {
    source,
    target: t((k) => source.data[k] + (inA(k) ? 1 : 0)),
    sourceNegative,
    // Δneg = 0.23 in B: |(1−g)Δpos + gΔneg| puts B above 1.5·mean, |gΔpos + (1−g)Δneg| does not.
    targetNegative: t((k) => sourceNegative.data[k] + (inB(k) ? 0.23 : 0)),
  };
  const unet = (order: 'diffusers' | 'intended', e: typeof eps) =>
    concatBatch(maskUnetBatchLayout(order, g).map((slot) => e[slot]));
  const opts = { batchSize: 1, numMapsPerMask: 2 };
  const region = (f: (k: number) => boolean) => Array.from({ length: 64 }, (_, p) => (f(p) ? 1 : 0));

  it('layouts', () => {
    expect(maskUnetBatchLayout('diffusers', g)).toEqual([
      'source',
      'sourceNegative',
      'target',
      'targetNegative',
    ]);
    expect(maskUnetBatchLayout('intended', g)).toEqual([
      'sourceNegative',
      'source',
      'targetNegative',
      'target',
    ]);
    expect(maskUnetBatchLayout('diffusers', 1)).toEqual(['source', 'target']);
  });
  it('the faithful order computes (1−g)(ε_tgt − ε_src) + g(ε_tgt_neg − ε_src_neg)', () => {
    const { source, target } = maskGuidedEstimates(unet('diffusers', eps), g);
    for (let i = 0; i < size; i += 7) {
      const expected =
        (1 - g) * (eps.target.data[i] - eps.source.data[i]) +
        g * (eps.targetNegative.data[i] - eps.sourceNegative.data[i]);
      expect(target.data[i] - source.data[i]).toBeCloseTo(expected, 5);
    }
  });
  it('identical negatives: both orders give the same mask; different negatives: they differ', () => {
    const same = { ...eps, targetNegative: eps.sourceNegative };
    const a = diffEditMaskFromUnetOutput(unet('diffusers', same), g, opts).mask;
    const b = diffEditMaskFromUnetOutput(unet('intended', same), g, opts).mask;
    expect(Array.from(a.data)).toEqual(region(inA));
    expect(Array.from(b.data)).toEqual(region(inA));
    const c = diffEditMaskFromUnetOutput(unet('diffusers', eps), g, opts).mask;
    const d = diffEditMaskFromUnetOutput(unet('intended', eps), g, opts).mask;
    expect(Array.from(c.data)).toEqual(region((p) => inA(p) || inB(p)));
    expect(Array.from(d.data)).toEqual(region(inA));
  });
  it('with CFG, the fused reduction gives the bits of guided estimates then the reduction', () => {
    const n = 3;
    const rows = 4 * n;
    const out = new Tensor([rows, 4, 5, 6]);
    for (let i = 0; i < out.size; i++) out.data[i] = Math.sin(i * 0.37) * (1 + (i % 11));
    for (const scale of [7.5, 1.5, 30]) {
      const o = { batchSize: 1, numMapsPerMask: n, maskThresholdingRatio: 2.5 };
      const fused = diffEditMaskFromUnetOutput(out, scale, o);
      const { source, target } = maskGuidedEstimates(out, scale);
      const stepwise = diffEditMaskFromEstimates(source, target, o);
      expect(Buffer.from(fused.mapValues.buffer)).toEqual(Buffer.from(stepwise.mapValues.buffer));
      expect(fused.clampLevel).toBe(stepwise.clampLevel);
      expect(Array.from(fused.mask.data)).toEqual(Array.from(stepwise.mask.data));
      expect(Array.from(fused.map.data)).toEqual(Array.from(stepwise.map.data));
    }
    expect(() => diffEditMaskFromUnetOutput(out, 7.5, { batchSize: 1, numMapsPerMask: 2 })).toThrow(
      /expected B·n/,
    );
    expect(() => diffEditMaskFromUnetOutput(out, Infinity, { batchSize: 1, numMapsPerMask: n })).toThrow(
      /finite/,
    );
  });
  it('without CFG the batch is [source; target]', () => {
    const out = concatBatch([eps.source, eps.target]);
    const { source, target } = maskGuidedEstimates(out, 1);
    expect(source.data).toEqual(eps.source.data);
    expect(target.data).toEqual(eps.target.data);
    expect(() => maskGuidedEstimates(concatBatch([eps.source, eps.target, eps.source]), g)).toThrow(
      /divisible by 4/,
    );
  });
});
