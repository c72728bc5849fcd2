import { describe, expect, it } from 'vitest';
import {
  DDIMScheduler,
  alphasCumprodFromConfig,
  betasFromConfig,
  resolveSchedulerConfig,
} from '@diffedit/core';
import { SD21_CONFIG } from './sd21.js';

describe('alphasCumprodFromConfig (spec §9, float64)', () => {
  const a = alphasCumprodFromConfig(SD21_CONFIG);
  const table: [number, number][] = [
    [0, 0.99915],
    [1, 0.998296027838],
    [20, 0.981314362201],
    [21, 0.980380748101],
    [461, 0.330845639776],
    [481, 0.302295660986],
    [499, 0.277669650456],
    [781, 0.04345600469],
    [981, 0.005775500139],
    [999, 0.004660098513],
  ];
  it('has num_train_timesteps entries', () => expect(a.length).toBe(1000));
  it.each(table)('ᾱ[%i] = %f', (t, v) => expect(Math.abs(a[t] - v)).toBeLessThan(1e-9));
});

describe("alphasCumprodFromConfig 'torch-float32' (spec §9 float32 column)", () => {
  const a = alphasCumprodFromConfig(SD21_CONFIG, 'torch-float32');
  const f64 = alphasCumprodFromConfig(SD21_CONFIG);
  const table: [number, number][] = [
    [0, 0.999149978161],
    [1, 0.998296022415],
    [20, 0.981314301491],
    [21, 0.980380654335],
    [461, 0.330845415592],
    [481, 0.302295446396],
    [499, 0.277669429779],
    [781, 0.043455969542],
    [981, 0.005775495898],
    [999, 0.004660095088],
  ];
  it.each(table)('ᾱ[%i] = %f', (t, v) => expect(Math.abs(a[t] - v)).toBeLessThan(1e-11));
  it('every value is a float32 and max |float64 − float32| ≈ 4.65e-7', () => {
    let maxDiff = 0;
    for (let t = 0; t < 1000; t++) {
      expect(Math.fround(a[t])).toBe(a[t]);
      maxDiff = Math.max(maxDiff, Math.abs(a[t] - f64[t]));
    }
    expect(maxDiff).toBeGreaterThan(4.6e-7);
    expect(maxDiff).toBeLessThan(4.7e-7);
  });
  it('schedulers accept the precision option', () => {
    const s = DDIMScheduler.fromConfig(SD21_CONFIG, { precision: 'torch-float32' });
    expect(s.precision).toBe('torch-float32');
    expect(s.finalAlphaCumprod).toBe(Math.fround(0.99915));
    expect(s.alphasCumprod[481]).toBe(a[481]);
  });
});

describe('betasFromConfig', () => {
  it('linear: endpoints and spacing', () => {
    const b = betasFromConfig({
      beta_schedule: 'linear',
      beta_start: 0.0001,
      beta_end: 0.02,
      num_train_timesteps: 5,
    });
    const expected = [0.0001, 0.005075, 0.01005, 0.015025, 0.02];
    expected.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 15));
  });
  it('scaled_linear squares a linspace of square roots', () => {
    const b = betasFromConfig({
      beta_schedule: 'scaled_linear',
      beta_start: 0.00085,
      beta_end: 0.012,
      num_train_timesteps: 3,
    });
    const mid = (Math.sqrt(0.00085) + Math.sqrt(0.012)) / 2;
    expect(b[0]).toBeCloseTo(0.00085, 15);
    expect(b[1]).toBeCloseTo(mid * mid, 15);
    expect(b[2]).toBeCloseTo(0.012, 15);
  });
  it('squaredcos_cap_v2 follows the cosine ᾱ and caps at 0.999', () => {
    const T = 1000;
    const b = betasFromConfig({ beta_schedule: 'squaredcos_cap_v2', num_train_timesteps: T });
    const f = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    expect(b[0]).toBeCloseTo(1 - f(1 / T) / f(0), 14);
    expect(b[T - 1]).toBe(0.999);
    const a = alphasCumprodFromConfig({ beta_schedule: 'squaredcos_cap_v2', num_train_timesteps: T });
    // Before the cap kicks in, ᾱ[t] telescopes to f((t+1)/T)/f(0).
    expect(a[499]).toBeCloseTo(f(500 / T) / f(0), 12);
  });
  it('trained_betas are used verbatim', () => {
    const b = betasFromConfig({ trained_betas: [0.1, 0.2, 0.3], num_train_timesteps: 3 });
    expect(Array.from(b)).toEqual([0.1, 0.2, 0.3]);
    expect(
      Array.from(alphasCumprodFromConfig({ trained_betas: [0.1, 0.2, 0.3], num_train_timesteps: 3 })),
    ).toEqual([0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.7]);
  });
  it('rescale_betas_zero_snr makes the last ᾱ zero and keeps the first', () => {
    const a0 = alphasCumprodFromConfig(SD21_CONFIG);
    const a = alphasCumprodFromConfig({ ...SD21_CONFIG, rescale_betas_zero_snr: true });
    expect(a[999]).toBe(0);
    expect(a[0]).toBeCloseTo(a0[0], 14);
  });
});

describe('resolveSchedulerConfig', () => {
  it('fills diffusers defaults (clip_sample true when absent) and ignores unknown keys', () => {
    const c = resolveSchedulerConfig({ _class_name: 'PNDMScheduler', skip_prk_steps: true });
    expect(c).toMatchObject({
      num_train_timesteps: 1000,
      beta_start: 0.0001,
      beta_end: 0.02,
      beta_schedule: 'linear',
      clip_sample: true,
      clip_sample_range: 1,
      set_alpha_to_one: true,
      steps_offset: 0,
      prediction_type: 'epsilon',
      timestep_spacing: 'leading',
      thresholding: false,
    });
    expect(c).not.toHaveProperty('skip_prk_steps');
  });
  it('set_alpha_to_zero is an overriding alias only when asked for (DDIMInverseScheduler constructor)', () => {
    expect(resolveSchedulerConfig({ set_alpha_to_zero: false }).set_alpha_to_one).toBe(true);
    const opts = { setAlphaToZeroAlias: true };
    expect(resolveSchedulerConfig({ set_alpha_to_zero: false }, 'x', opts).set_alpha_to_one).toBe(false);
    expect(
      resolveSchedulerConfig({ set_alpha_to_one: true, set_alpha_to_zero: false }, 'x', opts)
        .set_alpha_to_one,
    ).toBe(false);
  });
  it('JSON null counts as absent', () => {
    expect(resolveSchedulerConfig({ clip_sample: null, trained_betas: null }).clip_sample).toBe(true);
  });
  it('rejects bad values with the key name', () => {
    expect(() => resolveSchedulerConfig({ beta_schedule: 'sigmoid' })).toThrow(/beta_schedule/);
    expect(() => resolveSchedulerConfig({ prediction_type: 'flow' })).toThrow(/prediction_type/);
    expect(() => resolveSchedulerConfig({ trained_betas: [0.1], num_train_timesteps: 2 })).toThrow(
      /trained_betas/,
    );
    expect(() => resolveSchedulerConfig([1, 2])).toThrow(/JSON object/);
  });
});
