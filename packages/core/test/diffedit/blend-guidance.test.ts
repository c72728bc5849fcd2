import { describe, expect, it } from 'vitest';
import {
  DDIMScheduler,
  Tensor,
  batchView,
  classifierFreeGuidance,
  diffEditBlend,
  duplicateForGuidance,
  guidanceEmbeddings,
  invertedLatentsStepMajor,
  maskedDenoisePlan,
  splitGuidanceBatch,
  stackInvertedLatents,
  usesClassifierFreeGuidance,
} from '@diffedit/core';
import { SD21_CONFIG } from '../schedulers/sd21.js';

describe('classifier-free guidance, batch [negative; positive]', () => {
  const out = Tensor.from([2, 3], [1, 2, 3, 2, 2, 5]); // uncond row, cond row
  it('uncond + g·(cond − uncond)', () => {
    expect(Array.from(classifierFreeGuidance(out, 7.5).data)).toEqual([1 + 7.5, 2, 3 + 15]);
    expect(Array.from(classifierFreeGuidance(out, 1).data)).toEqual([2, 2, 5]);
    expect(Array.from(classifierFreeGuidance(out, 0).data)).toEqual([1, 2, 3]);
  });
  it('halves are views; odd batches are rejected', () => {
    const { uncond, cond } = splitGuidanceBatch(out);
    expect(uncond.data.buffer).toBe(out.data.buffer);
    expect(Array.from(cond.data)).toEqual([2, 2, 5]);
    expect(() => classifierFreeGuidance(Tensor.zeros([3, 1]), 2)).toThrow(/even/);
  });
  it('CFG is on iff g > 1; input and embedding batches', () => {
    expect([usesClassifierFreeGuidance(1), usesClassifierFreeGuidance(1.01)]).toEqual([false, true]);
    const x = Tensor.from([1, 2], [3, 4]);
    expect(Array.from(duplicateForGuidance(x).data)).toEqual([3, 4, 3, 4]);
    const e = guidanceEmbeddings(Tensor.from([1, 1], [-1]), Tensor.from([1, 1], [1]));
    expect(Array.from(e.data)).toEqual([-1, 1]);
  });
  it('[x; x] into a reused buffer: refilled in place every step; a buffer of another shape is refused', () => {
    const buffer = new Tensor([2, 2, 2]);
    const x = Tensor.from([1, 2, 2], [1, 2, 3, 4]);
    expect(duplicateForGuidance(x, buffer)).toBe(buffer);
    expect(Array.from(buffer.data)).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    const next = Tensor.from([1, 2, 2], [-1, 0.5, -0, 7]);
    duplicateForGuidance(next, buffer);
    expect(Array.from(buffer.data)).toEqual([-1, 0.5, -0, 7, -1, 0.5, -0, 7]);
    // the same size under other dims is not [x; x]
    expect(() => duplicateForGuidance(x, new Tensor([2, 4, 1]))).toThrow(RangeError);
    expect(() => duplicateForGuidance(x, new Tensor([4, 2]))).toThrow(RangeError);
  });
});

describe('masked denoise plan (spec §7, P6, §13.5)', () => {
  const s = DDIMScheduler.fromConfig(SD21_CONFIG);
  s.setTimesteps(50);
  it('N=50, strength 0.8: step i runs at 781 − 20i and uses stored latent i at level 781 − 20i', () => {
    const plan = maskedDenoisePlan(s, 0.8, 40);
    expect(plan.length).toBe(40);
    expect(plan[0]).toEqual({ index: 0, timestep: 781, resultLevel: 761, latentIndex: 0, latentLevel: 781 });
    plan.forEach((p, i) => {
      expect(p.latentIndex).toBe(i);
      expect(p.latentLevel).toBe(781 - 20 * i);
      expect(p.latentLevel - p.resultLevel).toBe(20); // background is one step noisier (P6)
    });
    expect(plan.at(-1)).toEqual({
      index: 39,
      timestep: 1,
      resultLevel: -19,
      latentIndex: 39,
      latentLevel: 1,
    });
  });
  it('P1: stored latents must match the number of steps', () => {
    expect(() => maskedDenoisePlan(s, 0.75, 40)).toThrow(/40 inverted latents .* runs 37 steps/);
  });
});

describe('inverted latents layout', () => {
  const step = (v: number) => Tensor.full([2, 1, 1, 1], v); // B=2 latents after each inversion step
  it('stack: (B, S, …) with index 0 the noisiest (last produced)', () => {
    const l = stackInvertedLatents([step(1), step(2), step(3)]);
    expect(l.dims).toEqual([2, 3, 1, 1, 1]);
    expect(Array.from(l.data)).toEqual([3, 2, 1, 3, 2, 1]);
  });
  it('step-major view: batchView(i) is the background of step i', () => {
    const l = stackInvertedLatents([step(1), step(2), step(3)]);
    const sm = invertedLatentsStepMajor(l, 2);
    expect(sm.dims).toEqual([3, 2, 1, 1, 1]);
    expect(Array.from(batchView(sm, 0).data)).toEqual([3, 3]);
    const single = invertedLatentsStepMajor(Tensor.from([3, 1, 1, 1], [9, 8, 7]), 1); // 4-D (B·S, C, h, w)
    expect(single.dims).toEqual([3, 1, 1, 1, 1]);
    expect(Array.from(batchView(single, 2).data)).toEqual([7]);
    expect(() => invertedLatentsStepMajor(Tensor.zeros([3, 1, 1, 1]), 2)).toThrow(/batch 2/);
  });
  it('blend keeps the inverted latent where mask = 0 and the denoised one where mask = 1', () => {
    const x = Tensor.from([1, 2, 1, 2], [1, 2, 3, 4]);
    const bg = Tensor.from([1, 2, 1, 2], [-1, -2, -3, -4]);
    const mask = Tensor.from([1, 1, 1, 2], [1, 0]);
    expect(Array.from(diffEditBlend(x, mask, bg, x).data)).toEqual([1, -2, 3, -4]);
  });
});
