import { describe, expect, it } from 'vitest';
import {
  DDIMInverseScheduler,
  SeededRng,
  Tensor,
  autoCorrelationLoss,
  getEpsilon,
  klDivergenceLoss,
  regulariseNoisePrediction,
  regulariseNoisePredictionAsync,
} from '@diffedit/core';
import type { FloatTensorLike } from '@diffedit/core';
import { SD21_CONFIG } from '../schedulers/sd21.js';

const x: FloatTensorLike = {
  dims: [1, 1, 16, 16],
  data: Float64Array.from({ length: 256 }, (_, k) => 1.3 * Math.sin(0.37 * k) + 0.2),
};
const at = (y: number, xx: number) => y * 16 + xx;
const fixedRolls = (rolls: number[]) => {
  let i = 0;
  return (high: number) => {
    const r = rolls[i++ % rolls.length];
    if (r >= high) throw new Error(`roll ${r} ≥ ${high}`);
    return r;
  };
};

function finiteDifference(f: (d: Float64Array) => number, data: Float64Array, i: number): number {
  const h = 1e-6;
  const p = data.slice();
  const m = data.slice();
  p[i] += h;
  m[i] -= h;
  return (f(p) - f(m)) / (2 * h);
}

describe('KL regulariser (spec §9)', () => {
  const r = klDivergenceLoss(x.data);
  it('loss and gradients to 1e-9', () => {
    expect(Math.abs(r.loss - 0.053703866888)).toBeLessThan(1e-9);
    const g = [r.grad[at(0, 0)], r.grad[at(5, 7)], r.grad[at(15, 15)]];
    [0.0015655551, 0.0002498031, 0.0013734918].forEach((v, i) =>
      expect(Math.abs(g[i] - v)).toBeLessThan(1e-9),
    );
  });
  it('gradient matches finite differences', () => {
    for (const i of [0, 17, 200]) {
      expect(r.grad[i]).toBeCloseTo(
        finiteDifference((d) => klDivergenceLoss(d).loss, x.data as Float64Array, i),
        7,
      );
    }
  });
});

describe('auto-correlation regulariser (spec §9, rolls 3 at 16×16, 2 at 8×8)', () => {
  const r = autoCorrelationLoss(x, fixedRolls([3, 2]));
  it('loss and gradients to 1e-9', () => {
    expect(Math.abs(r.loss - 0.261235783332)).toBeLessThan(1e-9);
    const g = [r.grad[at(0, 0)], r.grad[at(5, 7)], r.grad[at(15, 15)]];
    [0.0025429917, 0.0072484256, 0.0028245564].forEach((v, i) =>
      expect(Math.abs(g[i] - v)).toBeLessThan(1e-9),
    );
  });
  it('gradient matches finite differences (through the pooled level too)', () => {
    const loss = (d: Float64Array) => autoCorrelationLoss({ dims: x.dims, data: d }, fixedRolls([3, 2])).loss;
    for (const i of [0, 37, 130, 255]) {
      expect(r.grad[i]).toBeCloseTo(finiteDifference(loss, x.data as Float64Array, i), 7);
    }
  });
  it('draws one roll per level per (b, c) slice, each in [0, H/2)', () => {
    const highs: number[] = [];
    autoCorrelationLoss({ dims: [2, 3, 32, 32], data: new Float64Array(2 * 3 * 32 * 32) }, (h) => {
      highs.push(h);
      return 0;
    });
    expect(highs).toEqual(Array.from({ length: 6 }, () => [16, 8, 4]).flat());
  });
});

describe('getEpsilon (spec §9)', () => {
  it('v-prediction at t=481 uses ᾱ of the target timestep (float64, 1e-9)', () => {
    const inv = DDIMInverseScheduler.fromConfig(SD21_CONFIG);
    const out = { dims: [1, 4], data: Float64Array.from([0.1, -0.2, 0.3, -0.4]) };
    const sample = { dims: [1, 4], data: Float64Array.from([0.5, -1, 0.25, 2]) };
    const e = getEpsilon(inv, out, sample, 481);
    expect(e.data).toBeInstanceOf(Float64Array);
    [0.4726249106, -0.9452498212, 0.3737660068, 1.4506482777].forEach((v, i) =>
      expect(Math.abs(e.data[i] - v)).toBeLessThan(1e-9),
    );
    const t = getEpsilon(inv, Tensor.from([1, 4], out.data), Tensor.from([1, 4], sample.data), 481);
    expect(t).toBeInstanceOf(Tensor);
    expect(Math.abs(t.data[3] - 1.4506482777)).toBeLessThan(1e-6);
  });
  it('sample prediction: (x − √ᾱ·out)/√(1−ᾱ)', () => {
    const inv = DDIMInverseScheduler.fromConfig({ ...SD21_CONFIG, prediction_type: 'sample' });
    const a = inv.alphasCumprod[481];
    const e = getEpsilon(
      inv,
      { dims: [1, 1], data: Float64Array.from([0.3]) },
      { dims: [1, 1], data: Float64Array.from([0.7]) },
      481,
    );
    expect(e.data[0]).toBeCloseTo((0.7 - Math.sqrt(a) * 0.3) / Math.sqrt(1 - a), 14);
  });
  it('broadcasts a batch-1 output against the CFG-doubled sample (pitfall P12), rejects batch > 1', () => {
    const inv = DDIMInverseScheduler.fromConfig(SD21_CONFIG);
    const e = getEpsilon(inv, new Tensor([1, 4]), new Tensor([2, 4]), 481);
    expect(e.dims).toEqual([2, 4]);
    expect(() => getEpsilon(inv, new Tensor([2, 4]), new Tensor([4, 4]), 481)).toThrow(/does not broadcast/);
  });
  it('epsilon models: identity', () => {
    const inv = DDIMInverseScheduler.fromConfig({ ...SD21_CONFIG, prediction_type: 'epsilon' });
    const out = Tensor.from([1, 2], [1, 2]);
    expect(getEpsilon(inv, out, new Tensor([2, 2]), 481)).toBe(out);
  });
});

describe('regulariseNoisePrediction', () => {
  const inv = DDIMInverseScheduler.fromConfig({ ...SD21_CONFIG, prediction_type: 'epsilon' });
  const pred = new SeededRng(4).randn([1, 4, 16, 16]);
  const input = new SeededRng(5).randn([2, 4, 16, 16]);
  it('is off by default (num_reg_steps 0): returns an equal copy', () => {
    const r = regulariseNoisePrediction(inv, pred, input, 481);
    expect(r).not.toBe(pred);
    expect(r.data).toEqual(pred.data);
  });
  it('one KL step equals out − λ·∂L_kl/∂out', () => {
    const r = regulariseNoisePrediction(inv, pred, input, 481, {
      numRegSteps: 1,
      lambdaAutoCorr: 0,
      lambdaKl: 20,
    });
    const { grad } = klDivergenceLoss(pred.data);
    for (const i of [0, 100, 1023]) expect(r.data[i]).toBeCloseTo(pred.data[i] - 20 * grad[i], 5);
  });
  it('each term lowers its loss on a correlated prediction', () => {
    const smooth = Tensor.from(
      [1, 4, 16, 16],
      Array.from({ length: 1024 }, (_, k) => 0.5 + Math.sin(k / 7)),
    );
    const kl = regulariseNoisePrediction(inv, smooth, input, 481, {
      numRegSteps: 1,
      lambdaAutoCorr: 0,
      lambdaKl: 1,
    });
    expect(klDivergenceLoss(kl.data).loss).toBeLessThan(klDivergenceLoss(smooth.data).loss);
    const ac = regulariseNoisePrediction(inv, smooth, input, 481, {
      numRegSteps: 1,
      lambdaKl: 0,
      lambdaAutoCorr: 1,
      roll: fixedRolls([3, 2]),
    });
    expect(autoCorrelationLoss(ac, fixedRolls([3, 2])).loss).toBeLessThan(
      autoCorrelationLoss(smooth, fixedRolls([3, 2])).loss,
    );
  });
  it('a generator makes the auto-correlation path reproducible', () => {
    const run = () =>
      regulariseNoisePrediction(inv, pred, input, 481, { numRegSteps: 1, generator: new SeededRng(8) }).data;
    expect(run()).toEqual(run());
  });
  it('v-prediction: the chain rule multiplies by √ᾱ and sums broadcast copies', () => {
    const v = DDIMInverseScheduler.fromConfig(SD21_CONFIG);
    const r = regulariseNoisePrediction(v, pred, input, 481, {
      numRegSteps: 1,
      lambdaAutoCorr: 0,
      lambdaKl: 1,
    });
    const e = getEpsilon(v, pred, input, 481);
    const { grad } = klDivergenceLoss(e.data);
    const sa = Math.sqrt(v.alphasCumprod[481]);
    for (const i of [3, 700])
      expect(r.data[i]).toBeCloseTo(pred.data[i] - sa * (grad[i] + grad[i + 1024]), 5);
  });
  it('auto-correlation without a generator is a clear error', () => {
    expect(() => regulariseNoisePrediction(inv, pred, input, 481, { numRegSteps: 1 })).toThrow(/generator/);
  });
});

describe('regulariseNoisePredictionAsync (cancellable)', () => {
  const inv = DDIMInverseScheduler.fromConfig({ ...SD21_CONFIG, prediction_type: 'epsilon' });
  const pred = new SeededRng(4).randn([1, 4, 16, 16]);
  const input = new SeededRng(5).randn([2, 4, 16, 16]);
  const options = { numRegSteps: 3, numAutoCorrRolls: 4, lambdaKl: 20, lambdaAutoCorr: 20 };

  it('gives the same numbers as the synchronous version', async () => {
    const sync = regulariseNoisePrediction(inv, pred, input, 481, {
      ...options,
      generator: new SeededRng(8),
    });
    const slices = await regulariseNoisePredictionAsync(inv, pred, input, 481, {
      ...options,
      generator: new SeededRng(8),
      sliceMs: 0, // a turn of the event loop after every gradient step
    });
    expect(Array.from(slices.data)).toEqual(Array.from(sync.data));
  });

  it('lets the event loop run between gradient steps and stops at the next step once aborted', async () => {
    const controller = new AbortController();
    let rolls = 0;
    let abortedAtRoll = -1;
    // counted in rolls drawn, not in time: each auto-correlation step draws 4 slices × 2 levels = 8 rolls
    const roll = (high: number): number => {
      rolls++;
      return rolls % high;
    };
    const timer = setTimeout(() => {
      abortedAtRoll = rolls;
      controller.abort();
    }, 0);
    const pending = regulariseNoisePredictionAsync(inv, pred, input, 481, {
      numRegSteps: 1000,
      numAutoCorrRolls: 100,
      roll,
      signal: controller.signal,
      sliceMs: 0,
    });
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    clearTimeout(timer);
    // the timer fired while the loops were running (a blocked loop would have run all 100 000 steps first)
    expect(abortedAtRoll).toBeGreaterThanOrEqual(0);
    expect(rolls - abortedAtRoll).toBeLessThanOrEqual(8);
    expect(rolls).toBeLessThan(100 * 1000 * 8);
  });
});
