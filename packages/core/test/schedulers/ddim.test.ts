import { describe, expect, it } from 'vitest';
import { DDIMScheduler, SeededRng, Tensor } from '@diffedit/core';
import { EPS_CONFIG, MODEL_OUT, SD21_CONFIG, X_T, expectClose } from './sd21.js';

function scheduler(overrides: Record<string, unknown> = {}, config: object = EPS_CONFIG): DDIMScheduler {
  const s = DDIMScheduler.fromConfig({ ...config, ...overrides });
  s.setTimesteps(50);
  return s;
}

describe('DDIMScheduler.fromConfig', () => {
  it('reads the SD 2.1 config; final ᾱ = ᾱ[0] = 0.99915', () => {
    const s = DDIMScheduler.fromConfig(SD21_CONFIG);
    expect(s.config.prediction_type).toBe('v_prediction');
    expect(s.config.clip_sample).toBe(false);
    expect(s.finalAlphaCumprod).toBeCloseTo(0.99915, 15);
    expect(s.alphasCumprod.length).toBe(1000);
  });
  it('clip_sample defaults to true and set_alpha_to_one to true when absent', () => {
    const s = DDIMScheduler.fromConfig({
      beta_schedule: 'scaled_linear',
      beta_start: 0.00085,
      beta_end: 0.012,
    });
    expect(s.config.clip_sample).toBe(true);
    expect(s.finalAlphaCumprod).toBe(1);
  });
});

describe('DDIMScheduler.setTimesteps (spec §9)', () => {
  it('leading, steps_offset 1, N=50: 981, 961, …, 1', () => {
    const s = DDIMScheduler.fromConfig(SD21_CONFIG);
    expect(s.setTimesteps(50)).toEqual(Array.from({ length: 50 }, (_, k) => 981 - 20 * k));
  });
  it('N=5: [801, 601, 401, 201, 1]', () => {
    const s = DDIMScheduler.fromConfig(SD21_CONFIG);
    expect(s.setTimesteps(5)).toEqual([801, 601, 401, 201, 1]);
  });
  it('trailing N=50: 999, 979, …, 19', () => {
    const s = DDIMScheduler.fromConfig({ ...SD21_CONFIG, timestep_spacing: 'trailing' });
    expect(s.setTimesteps(50)).toEqual(Array.from({ length: 50 }, (_, k) => 999 - 20 * k));
  });
  it('linspace N=50: 999, 979, 958, 938, 917, …, 41, 20, 0', () => {
    const s = DDIMScheduler.fromConfig({ ...SD21_CONFIG, timestep_spacing: 'linspace' });
    const ts = s.setTimesteps(50);
    expect(ts.length).toBe(50);
    expect(ts.slice(0, 5)).toEqual([999, 979, 958, 938, 917]);
    expect(ts.slice(-3)).toEqual([41, 20, 0]);
  });
  it('rejects zero steps and steps > num_train_timesteps', () => {
    const s = DDIMScheduler.fromConfig(SD21_CONFIG);
    expect(() => s.setTimesteps(0)).toThrow(/positive integer/);
    expect(() => s.setTimesteps(1001)).toThrow(/cannot be larger than num_train_timesteps/);
    expect(() => s.setTimesteps(2.5)).toThrow(/positive integer/);
  });
  it('step before setTimesteps is a clear error', () => {
    const s = DDIMScheduler.fromConfig(SD21_CONFIG);
    expect(() => s.step(MODEL_OUT, 481, X_T)).toThrow(/setTimesteps/);
  });
  it('N=1000 with steps_offset 1: the first timestep (1000) indexes past the table', () => {
    const s = DDIMScheduler.fromConfig(SD21_CONFIG);
    expect(s.setTimesteps(1000)[0]).toBe(1000);
    expect(() => s.step(MODEL_OUT, 1000, X_T)).toThrow(/timestep 1000 is outside alphas_cumprod.*IndexError/);
    // The rest of the list is usable.
    expect(() => s.step(MODEL_OUT, 999, X_T)).not.toThrow();
  });
});

describe('DDIMScheduler.step, float64, spec §9 (1e-9)', () => {
  const cases: [string, object, number, number[], number[]][] = [
    [
      'ε, t=481→461',
      EPS_CONFIG,
      481,
      [0.7574764303, -1.5149528606, -0.0010659856, 4.2452791635],
      [0.5174961089, -1.0349922177, 0.244792421, 2.1146424623],
    ],
    [
      'ε, t=1→−19 (final ᾱ = ᾱ[0])',
      EPS_CONFIG,
      1,
      [0.496295097, -0.9925901941, 0.2378189455, 2.0182319177],
      [0.4989996027, -0.9979992054, 0.2464642788, 2.005712083],
    ],
    [
      'v, t=481→461',
      SD21_CONFIG,
      481,
      [0.1913784049, -0.3827568099, -0.1131325425, 1.4337432038],
      [0.4966952423, -0.9933904845, 0.2406746156, 2.0113345866],
    ],
    [
      'v, t=1→−19',
      SD21_CONFIG,
      1,
      [0.4954459056, -0.9908918111, 0.2374031534, 2.0148069804],
      [0.4987500298, -0.9975000596, 0.2463420797, 2.0047055118],
    ],
  ];
  it.each(cases)('%s', (_name, config, t, x0, prev) => {
    const r = scheduler({}, config).step(MODEL_OUT, t, X_T);
    expect(r.prevSample).toBeInstanceOf(Float64Array);
    expectClose(r.predOriginalSample, x0, 1e-9);
    expectClose(r.prevSample, prev, 1e-9);
  });
  it('ε, eta=1 with given noise', () => {
    const noise = Float64Array.from([1, -0.5, 0, 2]);
    const r = scheduler().step(MODEL_OUT, 481, X_T, { eta: 1, noise });
    expectClose(r.prevSample, [0.7999557336, -1.1683835565, 0.229115474, 2.7109156059], 1e-9);
  });
  it('ε, clip_sample=true clips x̂0 but keeps ε̂ = model output', () => {
    const r = scheduler({ clip_sample: true }).step(MODEL_OUT, 481, X_T);
    expectClose(r.predOriginalSample, [0.7574764303, -1.0, -0.0010659856, 1.0], 1e-9);
    expectClose(r.prevSample, [0.5174961089, -0.7387955402, 0.244792421, 0.2479844057], 1e-9);
  });
  it('useClippedModelOutput recomputes ε̂ from the clipped x̂0', () => {
    const s = scheduler({ clip_sample: true });
    const r = s.step(MODEL_OUT, 481, X_T, { useClippedModelOutput: true });
    const a = s.alphasCumprod[481];
    const ap = s.alphasCumprod[461];
    const expected = Array.from(r.predOriginalSample, (x0, i) => {
      const eps = (X_T[i] - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
      return Math.sqrt(ap) * x0 + Math.sqrt(1 - ap) * eps;
    });
    expectClose(r.prevSample, expected, 1e-12);
    // With an unclipped x̂0 the recomputed ε̂ equals the model output: same as the default path.
    const plain = scheduler().step(MODEL_OUT, 481, X_T);
    expectClose(
      scheduler().step(MODEL_OUT, 481, X_T, { useClippedModelOutput: true }).prevSample,
      Array.from(plain.prevSample),
      1e-12,
    );
  });
  it('sample prediction: x̂0 = output, ε̂ = (x − √ᾱ x̂0)/√(1−ᾱ)', () => {
    const s = scheduler({ prediction_type: 'sample' });
    const r = s.step(MODEL_OUT, 481, X_T);
    expectClose(r.predOriginalSample, Array.from(MODEL_OUT), 0);
    const a = s.alphasCumprod[481];
    const ap = s.alphasCumprod[461];
    const expected = Array.from(MODEL_OUT, (x0, i) => {
      const eps = (X_T[i] - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
      return Math.sqrt(ap) * x0 + Math.sqrt(1 - ap) * eps;
    });
    expectClose(r.prevSample, expected, 1e-12);
  });
  it('eta > 0 without noise or generator is a clear error', () => {
    expect(() => scheduler().step(MODEL_OUT, 481, X_T, { eta: 0.5 })).toThrow(/eta > 0 needs random noise/);
  });
  it('eta > 0 with a generator equals passing the same generator’s noise', () => {
    const noise = new SeededRng(7).fillNormal(new Float64Array(4));
    const a = scheduler().step(MODEL_OUT, 481, X_T, { eta: 0.7, noise });
    const b = scheduler().step(MODEL_OUT, 481, X_T, { eta: 0.7, generator: new SeededRng(7) });
    expectClose(b.prevSample, Array.from(a.prevSample), 0);
  });
  it('shape mismatch is a clear error', () => {
    expect(() => scheduler().step(new Float64Array(3), 481, X_T)).toThrow(
      /modelOutput.*3 elements, expected 4/,
    );
  });
  it('timestep outside the table is a clear error', () => {
    expect(() => scheduler().step(MODEL_OUT, -1, X_T)).toThrow(/timestep -1 is outside/);
  });
});

describe('DDIMScheduler on Tensors (float32)', () => {
  it('returns Tensors of the sample shape with float32 rounding of the float64 result', () => {
    const s = scheduler();
    const x = Tensor.from([1, 1, 2, 2], X_T);
    const o = Tensor.from([1, 1, 2, 2], MODEL_OUT);
    const r = s.step(o, 481, x);
    expect(r.prevSample).toBeInstanceOf(Tensor);
    expect(r.prevSample.dims).toEqual([1, 1, 2, 2]);
    expectClose(r.prevSample.data, [0.5174961089, -1.0349922177, 0.244792421, 2.1146424623], 2e-7);
  });
  it('in place: out = sample', () => {
    const s = scheduler();
    const x = Tensor.from([4], X_T);
    const r = s.step(Tensor.from([4], MODEL_OUT), 481, x, { out: x });
    expect(r.prevSample).toBe(x);
    expectClose(x.data, [0.5174961089, -1.0349922177, 0.244792421, 2.1146424623], 2e-7);
  });
  it('rejects a predOriginalOut that aliases the sample', () => {
    const x = Tensor.from([4], X_T);
    expect(() => scheduler().step(Tensor.from([4], MODEL_OUT), 481, x, { predOriginalOut: x })).toThrow(
      /must not share/,
    );
  });
});

describe('dynamic thresholding', () => {
  it('clamps x̂0 per batch row at the ratio-quantile of |x̂0| and rescales', () => {
    const s = scheduler({
      prediction_type: 'sample',
      thresholding: true,
      dynamic_thresholding_ratio: 0.5,
      sample_max_value: 3,
    });
    // Row 0: |x̂0| = [0.5, 2, 4, 1] → sorted [0.5,1,2,4], quantile(0.5) = 1.5 → clamp to ±1.5, /1.5.
    // Row 1: all small → s = max(q, 1) = 1 → plain clamp to ±1.
    const out = Tensor.from([2, 4], [0.5, -2, 4, 1, 0.1, -0.2, 0.3, -0.4]);
    const x = new Tensor([2, 4]);
    const r = s.step(out, 481, x);
    expectClose(r.predOriginalSample.data, [0.5 / 1.5, -1, 1, 1 / 1.5, 0.1, -0.2, 0.3, -0.4], 1e-7);
  });
});

describe('addNoise / getVelocity', () => {
  it('addNoise at t=481 (spec §9)', () => {
    const s = DDIMScheduler.fromConfig(SD21_CONFIG);
    const r = s.addNoise(X_T, MODEL_OUT, 481);
    expectClose(r, [0.3584358009, -0.7168716019, 0.3880396455, 0.7655136197], 1e-9);
  });
  it('one timestep per batch row', () => {
    const s = DDIMScheduler.fromConfig(SD21_CONFIG);
    const x = Tensor.from([2, 2], [0.5, -1, 0.25, 2]);
    const n = Tensor.from([2, 2], [0.1, -0.2, 0.3, -0.4]);
    const r = s.addNoise(x, n, [481, 481]);
    expectClose(r.data, [0.3584358009, -0.7168716019, 0.3880396455, 0.7655136197], 1e-7);
    const mixed = s.addNoise(x, n, [481, 0]);
    expectClose(
      mixed.data.subarray(2),
      [
        Math.sqrt(0.99915) * 0.25 + Math.sqrt(1 - 0.99915) * 0.3,
        Math.sqrt(0.99915) * 2 - Math.sqrt(1 - 0.99915) * 0.4,
      ],
      1e-7,
    );
    expect(() => s.addNoise(x, n, [1, 2, 3])).toThrow(/timesteps do not match/);
  });
  it('getVelocity is consistent with the v-prediction step (x̂0 = √ᾱ x − √(1−ᾱ) v)', () => {
    const s = scheduler({}, SD21_CONFIG);
    const x0 = Float64Array.from([0.3, -0.7, 1.1, 0.05]);
    const eps = Float64Array.from([1.2, 0.4, -0.9, 0.3]);
    const xt = s.addNoise(x0, eps, 481);
    const v = s.getVelocity(x0, eps, 481);
    const r = s.step(v, 481, xt);
    expectClose(r.predOriginalSample, Array.from(x0), 1e-12);
  });
});

describe('the one-pass ε step (η = 0, clipped or not) against the two-pass formula, bit for bit', () => {
  const n = 4 * 8 * 8;
  const x = new SeededRng(1).fillNormal(new Float32Array(n));
  const o = new SeededRng(2).fillNormal(new Float32Array(n));
  // x̂0 = (x − √(1−ᾱ)·ε)/√ᾱ stored as float32, then prev = √ᾱ_prev·x̂0 + √(1 − ᾱ_prev)·ε
  // with clipping, x̂0 is clipped to ±r in a pass of its own, as predictOriginal does
  const twoPass = (aT: number, aPrev: number, r = Infinity): { x0: Float32Array; prev: Float32Array } => {
    const x0 = new Float32Array(n);
    const prev = new Float32Array(n);
    for (let i = 0; i < n; i++) x0[i] = (x[i] - Math.sqrt(1 - aT) * o[i]) / Math.sqrt(aT);
    for (let i = 0; i < n; i++) x0[i] = x0[i] < -r ? -r : x0[i] > r ? r : x0[i];
    for (let i = 0; i < n; i++) prev[i] = Math.sqrt(aPrev) * x0[i] + Math.sqrt(1 - aPrev - 0 * 0) * o[i];
    return { x0, prev };
  };
  it('DDIMScheduler.step, also in place (out = sample)', () => {
    const s = scheduler({ clip_sample: false });
    for (const t of [s.timesteps[0], s.timesteps[25], s.timesteps.at(-1)!]) {
      const prevT = s.previousTimestep(t);
      const ref = twoPass(s.alphasCumprod[t], prevT >= 0 ? s.alphasCumprod[prevT] : s.finalAlphaCumprod);
      const sample = x.slice();
      const x0 = new Float32Array(n);
      s.step(o, t, sample, { out: sample, predOriginalOut: x0 });
      expect(Buffer.from(sample.buffer)).toEqual(Buffer.from(ref.prev.buffer));
      expect(Buffer.from(x0.buffer)).toEqual(Buffer.from(ref.x0.buffer));
    }
  });
  it('DDIMInverseScheduler.step into another buffer', async () => {
    const { DDIMInverseScheduler } = await import('@diffedit/core');
    const s = DDIMInverseScheduler.fromConfig({ ...EPS_CONFIG, clip_sample: false });
    s.setTimesteps(50);
    for (const t of [s.timesteps[0], s.timesteps[30]]) {
      const src = s.sourceTimestep(t);
      const ref = twoPass(src >= 0 ? s.alphasCumprod[src] : s.initialAlphaCumprod, s.alphasCumprod[t]);
      const { prevSample, predOriginalSample } = s.step(o, t, x);
      expect(Buffer.from(prevSample.buffer)).toEqual(Buffer.from(ref.prev.buffer));
      expect(Buffer.from(predOriginalSample.buffer)).toEqual(Buffer.from(ref.x0.buffer));
    }
  });
  it('both with clip_sample (the toy packs clip), x̂0 clipped where it exceeds the range', async () => {
    const { DDIMInverseScheduler } = await import('@diffedit/core');
    const config = { ...EPS_CONFIG, clip_sample: true, clip_sample_range: 0.8 };
    const forward = scheduler(config);
    const inverse = DDIMInverseScheduler.fromConfig(config);
    inverse.setTimesteps(50);
    let clippedValues = 0;
    for (const t of [forward.timesteps[0], forward.timesteps[25], forward.timesteps.at(-1)!]) {
      const prevT = forward.previousTimestep(t);
      const aPrev = prevT >= 0 ? forward.alphasCumprod[prevT] : forward.finalAlphaCumprod;
      const ref = twoPass(forward.alphasCumprod[t], aPrev, 0.8);
      const sample = x.slice();
      const x0 = new Float32Array(n);
      forward.step(o, t, sample, { out: sample, predOriginalOut: x0 });
      expect(Buffer.from(sample.buffer)).toEqual(Buffer.from(ref.prev.buffer));
      expect(Buffer.from(x0.buffer)).toEqual(Buffer.from(ref.x0.buffer));
      clippedValues += x0.filter((v) => Math.abs(v) === Math.fround(0.8)).length;
    }
    for (const t of [inverse.timesteps[0], inverse.timesteps[30]]) {
      const src = inverse.sourceTimestep(t);
      const aSrc = src >= 0 ? inverse.alphasCumprod[src] : inverse.initialAlphaCumprod;
      const ref = twoPass(aSrc, inverse.alphasCumprod[t], 0.8);
      const { prevSample, predOriginalSample } = inverse.step(o, t, x);
      expect(Buffer.from(prevSample.buffer)).toEqual(Buffer.from(ref.prev.buffer));
      expect(Buffer.from(predOriginalSample.buffer)).toEqual(Buffer.from(ref.x0.buffer));
    }
    expect(clippedValues).toBeGreaterThan(0);
  });
});
