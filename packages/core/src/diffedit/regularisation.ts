import type { SeededRng } from '../random/seeded-rng.js';
import type { DDIMSchedulerBase } from '../schedulers/ddim.js';
import { Tensor } from '../tensor/tensor.js';

/*
 * Pix2Pix-Zero's inversion regularisation as in diffusers' DiffEdit invert (spec §6.1), off by default
 * (num_reg_steps = 0). Losses and analytic gradients are computed in float64.
 */

/**
 * The pipeline's get_epsilon: ε from a model output at timestep t using ᾱ of the TARGET t (unlike step()).
 * `sample` is the UNet's latent input; as in diffusers it may be the CFG-doubled batch while the guided
 * output has batch 1 (the result then broadcasts to the sample's batch, pitfall P12). A Tensor output gives a
 * Tensor; float64 data gives float64 (reference tests). Epsilon models return `modelOutput` itself.
 */
export function getEpsilon(
  scheduler: DDIMSchedulerBase,
  modelOutput: Tensor,
  sample: FloatTensorLike,
  t: number,
): Tensor;
export function getEpsilon(
  scheduler: DDIMSchedulerBase,
  modelOutput: FloatTensorLike,
  sample: FloatTensorLike,
  t: number,
): FloatTensorLike;
export function getEpsilon(
  scheduler: DDIMSchedulerBase,
  modelOutput: FloatTensorLike,
  sample: FloatTensorLike,
  t: number,
): FloatTensorLike {
  const type = scheduler.config.prediction_type;
  if (type === 'epsilon') return modelOutput;
  const a = scheduler.alphaCumprodAt(t, 'getEpsilon');
  const { rows, rowLen } = broadcastRows(modelOutput, sample);
  const o = modelOutput.data;
  const x = sample.data;
  const data = o instanceof Float64Array ? new Float64Array(x.length) : new Float32Array(x.length);
  const sa = Math.sqrt(a);
  const sb = Math.sqrt(1 - a);
  for (let r = 0; r < rows; r++) {
    const ob = modelOutput.dims[0] === 1 ? 0 : r * rowLen;
    for (let k = 0; k < rowLen; k++) {
      const i = r * rowLen + k;
      data[i] = type === 'sample' ? (x[i] - sa * o[ob + k]) / sb : sa * o[ob + k] + sb * x[i];
    }
  }
  return data instanceof Float32Array && modelOutput instanceof Tensor
    ? new Tensor(sample.dims, data)
    : { dims: [...sample.dims], data };
}

function broadcastRows(
  modelOutput: FloatTensorLike,
  sample: FloatTensorLike,
): { rows: number; rowLen: number } {
  const rows = sample.dims[0];
  const rowLen = sample.data.length / rows;
  const ok =
    modelOutput.dims.length === sample.dims.length &&
    modelOutput.dims.slice(1).every((d, i) => d === sample.dims[i + 1]) &&
    (modelOutput.dims[0] === rows || modelOutput.dims[0] === 1);
  if (!ok) {
    throw new RangeError(
      `getEpsilon: model output [${modelOutput.dims.join(', ')}] does not broadcast against sample ` +
        `[${sample.dims.join(', ')}] (diffusers fails here for batch > 1 with v/sample models)`,
    );
  }
  return { rows, rowLen };
}

/** d get_epsilon / d modelOutput, per element (a constant): 1, √ᾱ (v) or −√ᾱ/√(1−ᾱ) (sample). */
function epsilonJacobian(scheduler: DDIMSchedulerBase, t: number): number {
  const type = scheduler.config.prediction_type;
  if (type === 'epsilon') return 1;
  const a = scheduler.alphaCumprodAt(t, 'getEpsilon');
  return type === 'v_prediction' ? Math.sqrt(a) : -Math.sqrt(a) / Math.sqrt(1 - a);
}

export interface LossAndGradient {
  loss: number;
  /** ∂loss/∂input, same shape as the input. */
  grad: Float64Array;
}

/** L_kl = var(e) + mean(e)² − 1 − ln(var(e) + 1e-7) over the whole tensor, var unbiased (N − 1). */
export function klDivergenceLoss(e: ArrayLike<number>): LossAndGradient {
  const n = e.length;
  if (n < 2) throw new RangeError('klDivergenceLoss: need at least 2 elements for an unbiased variance');
  let mu = 0;
  for (let i = 0; i < n; i++) mu += e[i];
  mu /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (e[i] - mu) ** 2;
  const v = ss / (n - 1);
  const loss = v + mu * mu - 1 - Math.log(v + 1e-7);
  const grad = new Float64Array(n);
  const k = 1 - 1 / (v + 1e-7);
  for (let i = 0; i < n; i++) grad[i] = ((2 * (e[i] - mu)) / (n - 1)) * k + (2 * mu) / n;
  return { loss, grad };
}

/** Dims plus float32 (product) or float64 (reference tests) data. */
export interface FloatTensorLike {
  readonly dims: readonly number[];
  readonly data: Float32Array | Float64Array;
}

/** A roll-amount source: returns an integer in [0, high). */
export type RollSource = (high: number) => number;

export function rollsFromGenerator(generator: SeededRng): RollSource {
  return (high) => generator.randint(0, high);
}

/**
 * Pix2Pix-Zero's auto-correlation loss on e (B, C, H, W): for every (b, c) slice z and pyramid level, draw
 * r = roll(H_ℓ div 2) and add mean(z·roll_H(z, r))² + mean(z·roll_W(z, r))²; stop once H_ℓ ≤ 8, else 2×2
 * average-pool (floor). Rolls are drawn in the order b, c, level (as diffusers does).
 */
export function autoCorrelationLoss(e: FloatTensorLike, roll: RollSource): LossAndGradient {
  if (e.dims.length !== 4)
    throw new RangeError(`autoCorrelationLoss: expected (B, C, H, W), got [${e.dims.join(', ')}]`);
  const [B, C, H, W] = e.dims;
  const grad = new Float64Array(e.data.length);
  let loss = 0;
  for (let s = 0; s < B * C; s++) {
    const levels: { z: Float64Array; h: number; w: number }[] = [];
    let z: Float64Array = Float64Array.from(e.data.subarray(s * H * W, (s + 1) * H * W));
    let h = H;
    let w = W;
    for (;;) {
      levels.push({ z, h, w });
      if (h <= 8) break;
      const pooled = avgPool2(z, h, w);
      z = pooled;
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    }
    const levelGrads = levels.map(({ z: zl, h: hl, w: wl }) => {
      const high = Math.floor(hl / 2);
      if (high < 1) throw new RangeError(`autoCorrelationLoss: a ${hl}-row level has no roll range`);
      const r = roll(high);
      const g = new Float64Array(hl * wl);
      loss += rollTerm(zl, hl, wl, r, 'H', g) + rollTerm(zl, hl, wl, r, 'W', g);
      return g;
    });
    // Back-propagate from the coarsest level: pooling spreads ¼ of each gradient to its 2×2 sources.
    for (let l = levels.length - 1; l > 0; l--) {
      const fine = levelGrads[l - 1];
      const { h: hf, w: wf } = levels[l - 1];
      const coarse = levelGrads[l];
      const wc = Math.floor(wf / 2);
      for (let y = 0; y < Math.floor(hf / 2); y++) {
        for (let x = 0; x < wc; x++) {
          const q = coarse[y * wc + x] / 4;
          fine[2 * y * wf + 2 * x] += q;
          fine[2 * y * wf + 2 * x + 1] += q;
          fine[(2 * y + 1) * wf + 2 * x] += q;
          fine[(2 * y + 1) * wf + 2 * x + 1] += q;
        }
      }
    }
    grad.set(levelGrads[0], s * H * W);
  }
  return { loss, grad };
}

/** m = mean(z ⊙ roll(z, r)) along one axis; adds ∂(m²)/∂z = 2m·(roll(z, r) + roll(z, −r))/numel to g; returns m². */
function rollTerm(
  z: Float64Array,
  h: number,
  w: number,
  r: number,
  axis: 'H' | 'W',
  g: Float64Array,
): number {
  const n = h * w;
  const at = (y: number, x: number, shift: number): number =>
    axis === 'H' ? z[((((y - shift) % h) + h) % h) * w + x] : z[y * w + ((((x - shift) % w) + w) % w)];
  let m = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) m += z[y * w + x] * at(y, x, r);
  m /= n;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) g[y * w + x] += (2 * m * (at(y, x, r) + at(y, x, -r))) / n;
  }
  return m * m;
}

function avgPool2(z: Float64Array, h: number, w: number): Float64Array {
  const hc = Math.floor(h / 2);
  const wc = Math.floor(w / 2);
  const out = new Float64Array(hc * wc);
  for (let y = 0; y < hc; y++) {
    for (let x = 0; x < wc; x++) {
      out[y * wc + x] =
        (z[2 * y * w + 2 * x] +
          z[2 * y * w + 2 * x + 1] +
          z[(2 * y + 1) * w + 2 * x] +
          z[(2 * y + 1) * w + 2 * x + 1]) /
        4;
    }
  }
  return out;
}

export interface InversionRegularisationOptions {
  /** diffusers num_reg_steps (default 0 = off, as in diffusers). */
  numRegSteps?: number;
  lambdaAutoCorr?: number;
  lambdaKl?: number;
  numAutoCorrRolls?: number;
  /** Where the random roll amounts come from (required when the auto-correlation term is on). */
  generator?: SeededRng;
  /** Alternative to `generator` (e.g. fixed rolls in tests). */
  roll?: RollSource;
}

/**
 * invert's regularisation of the guided noise prediction before each inverse step: num_reg_steps rounds of
 * num_auto_corr_rolls auto-correlation gradient steps (each scaled by λ_ac / rolls) and one KL gradient step
 * (λ_kl), all through get_epsilon at the target timestep t. Returns a new tensor (the input is not changed).
 */
export function regulariseNoisePrediction(
  scheduler: DDIMSchedulerBase,
  noisePred: Tensor,
  latentModelInput: Tensor,
  t: number,
  options: InversionRegularisationOptions = {},
): Tensor {
  const steps = regularisationSteps(scheduler, noisePred, latentModelInput, t, options);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/**
 * The same, for a run that can be cancelled: the loops can take many seconds per step (100 × 100 gradient
 * steps on a 64×64 latent), so this gives the event loop a turn every `sliceMs` of work (a Ctrl-C or an abort
 * gets handled) and stops with the signal's reason once it is aborted.
 */
export async function regulariseNoisePredictionAsync(
  scheduler: DDIMSchedulerBase,
  noisePred: Tensor,
  latentModelInput: Tensor,
  t: number,
  options: InversionRegularisationOptions & { signal?: AbortSignal; sliceMs?: number } = {},
): Promise<Tensor> {
  const sliceMs = options.sliceMs ?? 25;
  const steps = regularisationSteps(scheduler, noisePred, latentModelInput, t, options);
  let sliceStart = performance.now();
  for (;;) {
    options.signal?.throwIfAborted();
    const next = steps.next();
    if (next.done) return next.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      sliceStart = performance.now();
    }
  }
}

/** The regularisation as a generator that pauses after each gradient step (the unit of cancellation). */
function* regularisationSteps(
  scheduler: DDIMSchedulerBase,
  noisePred: Tensor,
  latentModelInput: Tensor,
  t: number,
  options: InversionRegularisationOptions,
): Generator<void, Tensor, void> {
  const numRegSteps = options.numRegSteps ?? 0;
  const lambdaAc = options.lambdaAutoCorr ?? 20;
  const lambdaKl = options.lambdaKl ?? 20;
  const rolls = options.numAutoCorrRolls ?? 5;
  const out = noisePred.clone();
  if (numRegSteps <= 0) return out;
  const roll = options.roll ?? (options.generator ? rollsFromGenerator(options.generator) : undefined);
  if (lambdaAc > 0 && roll === undefined) {
    throw new Error('regulariseNoisePrediction: the auto-correlation term needs options.generator (or roll)');
  }
  const jac = epsilonJacobian(scheduler, t);
  // Chain rule through get_epsilon, summing the broadcast copies back onto the model output's rows.
  const toOutput = (gradEps: Float64Array): Float64Array => {
    const g = new Float64Array(out.size);
    for (let i = 0; i < gradEps.length; i++) g[i % out.size] += gradEps[i] * jac;
    return g;
  };
  const descend = (g: Float64Array, lr: number): void => {
    for (let i = 0; i < out.size; i++) out.data[i] -= lr * g[i];
  };
  for (let s = 0; s < numRegSteps; s++) {
    if (lambdaAc > 0) {
      for (let r = 0; r < rolls; r++) {
        const eps = getEpsilon(scheduler, out, latentModelInput, t);
        const { grad } = autoCorrelationLoss(eps, roll as RollSource);
        descend(toOutput(grad), lambdaAc / rolls);
        yield;
      }
    }
    if (lambdaKl > 0) {
      const eps = getEpsilon(scheduler, out, latentModelInput, t);
      descend(toOutput(klDivergenceLoss(eps.data).grad), lambdaKl);
      yield;
    }
  }
  return out;
}
