import { describe, expect, it } from 'vitest';
import {
  DDIMInverseScheduler,
  DDIMScheduler,
  getInverseTimesteps,
  getTimesteps,
  maskEncodeTimestep,
  strengthToSteps,
} from '@diffedit/core';
import { SD21_CONFIG } from './sd21.js';

function pair(n: number, config: object = SD21_CONFIG): [DDIMScheduler, DDIMInverseScheduler] {
  const fwd = DDIMScheduler.fromConfig(config);
  const inv = DDIMInverseScheduler.fromConfig(config);
  fwd.setTimesteps(n);
  inv.setTimesteps(n);
  return [fwd, inv];
}

describe('strength slicing (spec §3.7, §9)', () => {
  it('generate_mask encode timestep for N=50: 0.5 → 481, 0.3 → 281, 0.7 → 681, 0.8 → 781, 1.0 → 981', () => {
    const [fwd] = pair(50);
    expect([0.5, 0.3, 0.7, 0.8, 1.0].map((s) => maskEncodeTimestep(fwd, s))).toEqual([
      481, 281, 681, 781, 981,
    ]);
    // t_enc = 481: ᾱ = 0.302295660986, √ᾱ = 0.549814205879, √(1−ᾱ) = 0.835286980034 (float64, 1e-9)
    const a = fwd.alphasCumprod[maskEncodeTimestep(fwd, 0.5)];
    expect(Math.abs(a - 0.302295660986)).toBeLessThan(1e-9);
    expect(Math.abs(Math.sqrt(a) - 0.549814205879)).toBeLessThan(1e-9);
    expect(Math.abs(Math.sqrt(1 - a) - 0.835286980034)).toBeLessThan(1e-9);
  });
  it('invert at 0.8: 40 steps 1, 21, …, 781; __call__ at 0.8: 781, 761, …, 1', () => {
    const [fwd, inv] = pair(50);
    const i = getInverseTimesteps(inv, 0.8);
    expect(i.numInferenceSteps).toBe(40);
    expect(i.timesteps).toEqual(Array.from({ length: 40 }, (_, k) => 1 + 20 * k));
    const f = getTimesteps(fwd, 0.8);
    expect(f.numInferenceSteps).toBe(40);
    expect(f.tStart).toBe(10);
    expect(f.timesteps).toEqual(Array.from({ length: 40 }, (_, k) => 781 - 20 * k));
    // Inverse source levels: −19 (→ ᾱ[0]), 1, …, 761.
    expect(i.timesteps.map((t) => inv.sourceTimestep(t)).slice(0, 3)).toEqual([-19, 1, 21]);
    expect(inv.sourceTimestep(781)).toBe(761);
  });
  it('0.7 → invert 35 steps (1 … 681), call starts at 681; 1.0 → 50 steps up to 981', () => {
    const [fwd, inv] = pair(50);
    const i7 = getInverseTimesteps(inv, 0.7);
    expect([i7.timesteps.length, i7.timesteps[0], i7.timesteps.at(-1)]).toEqual([35, 1, 681]);
    expect(getTimesteps(fwd, 0.7).timesteps[0]).toBe(681);
    const i10 = getInverseTimesteps(inv, 1.0);
    expect([i10.timesteps.length, i10.timesteps.at(-1)]).toEqual([50, 981]);
    expect(getTimesteps(fwd, 1.0).timesteps[0]).toBe(981);
  });
  it('integration-test setting N=5, strength 0.7: invert [1, 201, 401], call [401, 201, 1]', () => {
    const [fwd, inv] = pair(5);
    expect(getInverseTimesteps(inv, 0.7).timesteps).toEqual([1, 201, 401]);
    expect(getTimesteps(fwd, 0.7).timesteps).toEqual([401, 201, 1]);
  });
  it('reproduces Python int() truncation of the float64 product: 100·0.29 → 28, 100·0.57 → 56', () => {
    expect(strengthToSteps(100, 0.29)).toEqual({ k: 28, tStart: 72 });
    expect(strengthToSteps(100, 0.57)).toEqual({ k: 56, tStart: 44 });
    expect(strengthToSteps(3, 0.7)).toEqual({ k: 2, tStart: 1 });
    const [fwd, inv] = pair(100);
    expect(getTimesteps(fwd, 0.29).timesteps.length).toBe(28);
    expect(getInverseTimesteps(inv, 0.29).timesteps.length).toBe(28);
  });
  it('forward and inverse slices are the same levels in opposite order', () => {
    for (const s of [0.1, 0.29, 0.5, 0.8, 1]) {
      const [fwd, inv] = pair(50);
      expect([...getTimesteps(fwd, s).timesteps].reverse()).toEqual(getInverseTimesteps(inv, s).timesteps);
    }
  });
});

describe('strength errors (spec §12)', () => {
  it('strength outside [0, 1]', () => {
    const [fwd, inv] = pair(50);
    expect(() => getTimesteps(fwd, 1.1)).toThrow(/strength must be in \[0, 1\], got 1.1/);
    expect(() => getInverseTimesteps(inv, -0.1)).toThrow(/strength must be in \[0, 1\]/);
    expect(() => getTimesteps(fwd, Number.NaN)).toThrow(/strength must be in \[0, 1\]/);
  });
  it('a strength that truncates to zero steps (P9)', () => {
    const [fwd, inv] = pair(50);
    expect(() => getTimesteps(fwd, 0.01)).toThrow(/leaves int\(50·0.01\) = 0 steps/);
    expect(() => getInverseTimesteps(inv, 0)).toThrow(/= 0 steps/);
  });
  it('before setTimesteps', () => {
    expect(() => getTimesteps(DDIMScheduler.fromConfig(SD21_CONFIG), 0.5)).toThrow(/setTimesteps/);
  });
  it('N = 1000 with steps_offset 1: full strength reaches timestep 1000 (IndexError in diffusers)', () => {
    const [fwd, inv] = pair(1000);
    expect(() => getTimesteps(fwd, 1)).toThrow(/timestep 1000 is outside alphas_cumprod/);
    expect(() => getInverseTimesteps(inv, 1)).toThrow(/timestep 1000 is outside alphas_cumprod/);
    // A smaller strength never reaches it, as in diffusers.
    expect(getTimesteps(fwd, 0.8).timesteps[0]).toBe(800);
    expect(getInverseTimesteps(inv, 0.8).timesteps.at(-1)).toBe(800);
  });
});

describe('timestep spacing against numpy (values generated with numpy 2)', () => {
  const trailing = (): DDIMScheduler =>
    DDIMScheduler.fromConfig({ ...SD21_CONFIG, timestep_spacing: 'trailing' });
  it('trailing N=3 → [999, 666, 332] (round half to even), N=7 ends 428, 285, 142', () => {
    expect(trailing().setTimesteps(3)).toEqual([999, 666, 332]);
    const t7 = trailing().setTimesteps(7);
    expect(t7.slice(0, 4)).toEqual([999, 856, 713, 570]);
    expect(t7.slice(-3)).toEqual([428, 285, 142]);
  });
  it('trailing N=61: numpy arange yields 62 values ending in −1; refused with a clear error', () => {
    expect(() => trailing().setTimesteps(61)).toThrow(/negative timestep .*62 steps/);
    const inv = DDIMInverseScheduler.fromConfig({ ...SD21_CONFIG, timestep_spacing: 'trailing' });
    expect(() => inv.setTimesteps(61)).toThrow(/negative timestep/);
  });
  it('linspace N=7 → [999, 832, 666, 500, 333, 166, 0]; N=13 starts 999, 916, 832, 749, 666', () => {
    const s = DDIMScheduler.fromConfig({ ...SD21_CONFIG, timestep_spacing: 'linspace' });
    expect(s.setTimesteps(7)).toEqual([999, 832, 666, 500, 333, 166, 0]);
    expect(s.setTimesteps(13).slice(0, 5)).toEqual([999, 916, 832, 749, 666]);
    expect(s.setTimesteps(13).reduce((a, b) => a + b, 0)).toBe(6493);
  });
});
