import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DDIMScheduler,
  SeededRng,
  Tensor,
  batchView,
  classifierFreeGuidance,
  diffEditBlend,
  duplicateForGuidance,
  getTimesteps,
} from '@diffedit/core';

/*
 * A correctness test of the "no garbage per step" contract: with `out` buffers, a 50-step DDIM loop on a
 * 4×64×64 latent must create no new typed-array buffers (counted through a Proxy on the constructors) and
 * must return the very buffers it was given. Not a timing test.
 */
let constructed = 0;
const originals = { Float32Array: globalThis.Float32Array, Float64Array: globalThis.Float64Array };

function counting<C extends object>(ctor: C): C {
  return new Proxy(ctor, {
    construct(target, args, newTarget) {
      constructed++;
      return Reflect.construct(target as unknown as new (...a: unknown[]) => object, args, newTarget);
    },
  });
}

beforeEach(() => {
  constructed = 0;
});
afterEach(() => {
  globalThis.Float32Array = originals.Float32Array;
  globalThis.Float64Array = originals.Float64Array;
});

const CONFIG = {
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  prediction_type: 'epsilon',
  set_alpha_to_one: false,
  steps_offset: 1,
};

function runLoop(eta: number, reuse: boolean): { x: Tensor; allocations: number } {
  const s = DDIMScheduler.fromConfig(CONFIG);
  s.setTimesteps(50);
  const dims = [1, 4, 64, 64];
  const x = new SeededRng(1).randn(dims);
  const unetOut = new Tensor([2, ...dims.slice(1)]); // [uncond; cond] model output buffer
  const unetIn = new Tensor([2, ...dims.slice(1)]);
  const guided = new Tensor(dims);
  const x0 = new Tensor(dims);
  const background = new SeededRng(2).randn([50, ...dims]);
  const mask = Tensor.from(
    [1, 1, 64, 64],
    Array.from({ length: 64 * 64 }, (_, i) => (i % 64 < 32 ? 1 : 0)),
  );
  const rng = new SeededRng(3);
  const { timesteps } = getTimesteps(s, 1);

  globalThis.Float32Array = counting(originals.Float32Array);
  globalThis.Float64Array = counting(originals.Float64Array);
  constructed = 0;
  let current = x;
  for (const [i, t] of timesteps.entries()) {
    const input = reuse ? duplicateForGuidance(current, unetIn) : duplicateForGuidance(current);
    // A stand-in UNet writing into its output buffer: ε_u = 0.1·x, ε_c = 0.1·x + 0.01.
    const o = reuse ? unetOut : new Tensor([2, ...dims.slice(1)]);
    for (let k = 0; k < o.size; k++) o.data[k] = 0.1 * input.data[k] + (k >= o.size / 2 ? 0.01 : 0);
    const eps = reuse ? classifierFreeGuidance(o, 7.5, guided) : classifierFreeGuidance(o, 7.5);
    const r = reuse
      ? s.step(eps, t, current, { eta, generator: rng, out: current, predOriginalOut: x0 })
      : s.step(eps, t, current, { eta, generator: rng });
    if (reuse) {
      expect(r.prevSample).toBe(current);
      expect(r.predOriginalSample).toBe(x0);
    }
    const bg = batchView(background, i).reshape(dims);
    current = reuse
      ? diffEditBlend(r.prevSample, mask, bg, r.prevSample)
      : diffEditBlend(r.prevSample, mask, bg);
  }
  const allocations = constructed;
  globalThis.Float32Array = originals.Float32Array;
  globalThis.Float64Array = originals.Float64Array;
  return { x: current, allocations };
}

describe('50-step DDIM loop on a 4×64×64 latent with out buffers', () => {
  it('eta = 0: no typed-array allocation per step, same result as the allocating loop', () => {
    const reused = runLoop(0, true);
    expect(reused.allocations).toBe(0);
    const fresh = runLoop(0, false);
    expect(fresh.allocations).toBeGreaterThanOrEqual(50 * 4); // the counter does see allocations
    expect(Array.from(reused.x.data)).toEqual(Array.from(fresh.x.data));
  });
  it('eta = 1 with a generator: still no allocation per step', () => {
    expect(runLoop(1, true).allocations).toBe(0);
  });
});
