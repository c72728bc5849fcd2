import { describe, expect, it } from 'vitest';
import {
  SeededRng,
  Tensor,
  batchView,
  createDiffEditSchedulers,
  diffEditBlend,
  getInverseTimesteps,
  invertedLatentsStepMajor,
  maskedDenoisePlan,
  stackInvertedLatents,
} from '@diffedit/core';
import { EPS_CONFIG } from '../schedulers/sd21.js';

/*
 * invert → __call__ wired from the helpers, with a stand-in ε-model whose output depends only on the timestep.
 * Then DDIM.step(t) exactly undoes DDIMInverse.step(t) (same ε̂ at both levels), so the indexing of the stored latents can be checked
 * end to end: mask = 1 everywhere returns the clean latent, mask = 0 everywhere returns the stored latent of
 * the last step, which is at level 1 (pitfall P6), not the clean latent.
 */
const dims = [1, 4, 8, 8];
const modelOutputs = new Map<number, Tensor>();
const model = (t: number): Tensor => {
  if (!modelOutputs.has(t)) modelOutputs.set(t, new SeededRng(1000 + t).randn(dims));
  return modelOutputs.get(t) as Tensor;
};

function run(maskValue: number) {
  const { scheduler, inverseScheduler } = createDiffEditSchedulers(EPS_CONFIG);
  scheduler.setTimesteps(50);
  inverseScheduler.setTimesteps(50);
  const clean = new SeededRng(7).randn(dims);
  // invert
  const store: Tensor[] = [];
  let x = clean.clone();
  for (const t of getInverseTimesteps(inverseScheduler, 0.8).timesteps) {
    x = inverseScheduler.step(model(t), t, x).prevSample;
    store.push(x);
  }
  const latents = stackInvertedLatents(store); // (1, 40, 4, 8, 8), index 0 noisiest
  const perStep = invertedLatentsStepMajor(latents, 1);
  // __call__
  const plan = maskedDenoisePlan(scheduler, 0.8, latents.dims[1]);
  const mask = Tensor.full([1, 1, 8, 8], maskValue);
  let y = batchView(perStep, 0).reshape(dims).clone();
  for (const step of plan) {
    y = scheduler.step(model(step.timestep), step.timestep, y).prevSample;
    diffEditBlend(y, mask, batchView(perStep, step.latentIndex).reshape(dims), y);
  }
  return { clean, store, y, latents };
}

describe('invert → masked denoise with the helpers', () => {
  it('the stored latents are noisiest first: index 0 is the last inversion step (level 781)', () => {
    const { store, latents } = run(1);
    expect(latents.dims).toEqual([1, 40, 4, 8, 8]);
    expect(Array.from(batchView(invertedLatentsStepMajor(latents, 1), 0).data)).toEqual(
      Array.from(store[39].data),
    );
  });
  it('mask = 1 (repaint everywhere) with the same model undoes the inversion', () => {
    const { clean, y } = run(1);
    let maxErr = 0;
    for (let i = 0; i < y.size; i++) maxErr = Math.max(maxErr, Math.abs(y.data[i] - clean.data[i]));
    expect(maxErr).toBeLessThan(1e-4);
  });
  it('mask = 0 (keep everywhere) ends on the level-1 inverted latent, not the clean one (P6)', () => {
    const { clean, store, y } = run(0);
    expect(Array.from(y.data)).toEqual(Array.from(store[0].data));
    let diff = 0;
    for (let i = 0; i < y.size; i++) diff = Math.max(diff, Math.abs(y.data[i] - clean.data[i]));
    expect(diff).toBeGreaterThan(1e-3);
  });
});
