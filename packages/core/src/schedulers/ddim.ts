import type { SeededRng } from '../random/seeded-rng.js';
import { alphasCumprodFromBetas, betasFromConfig } from './betas.js';
import type { AlphasPrecision } from './betas.js';
import { resolveSchedulerConfig } from './config.js';
import type { ResolvedSchedulerConfig, SchedulerConfig } from './config.js';
import {
  allocLike,
  batchRows,
  checkLength,
  dataOf,
  dynamicThreshold,
  epsilonStep,
  predictOriginal,
} from './step-math.js';
import type { EpsilonStepCoefficients, FloatArray, SchedulerOutput, StepValue } from './step-math.js';
import { checkNumInferenceSteps, ddimTimesteps } from './timesteps.js';

/** Construction options that are not part of scheduler_config.json. */
export interface SchedulerOptions {
  /** Arithmetic of the β/ᾱ tables (default 'float64'; 'torch-float32' mimics diffusers on torch CPU). */
  precision?: AlphasPrecision;
}

export interface DDIMStepOptions<V extends StepValue> {
  /** η of the DDIM paper: 0 = deterministic DDIM (default), 1 = DDPM-like variance. */
  eta?: number;
  /** Recompute ε̂ from the clipped x̂0 (diffusers' use_clipped_model_output); default false. */
  useClippedModelOutput?: boolean;
  /** Standard normal noise for eta > 0 (diffusers' variance_noise), same shape as the sample. */
  noise?: V;
  /** Alternatively, a generator that supplies the eta > 0 noise element by element (no allocation). */
  generator?: SeededRng;
  /** Where to write prevSample; may be `sample` or `modelOutput` itself (in place). */
  out?: V;
  /** Where to write predOriginalSample; must not alias any input. */
  predOriginalOut?: V;
}

/** The arrays of one step (see DDIMSchedulerBase.stepBuffers). */
export interface StepBuffers<V extends StepValue> extends SchedulerOutput<V> {
  /** Data of the sample, the model output, prevSample and predOriginalSample. */
  x: FloatArray;
  o: FloatArray;
  out: FloatArray;
  x0: FloatArray;
}

/** Base of the DDIM schedulers: config, ᾱ table and timestep checks. */
export abstract class DDIMSchedulerBase {
  readonly config: ResolvedSchedulerConfig;
  readonly betas: Float64Array;
  /** ᾱ[t] = Π_{i≤t}(1 − β_i), float64, length num_train_timesteps. */
  readonly alphasCumprod: Float64Array;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  protected _numInferenceSteps: number | null = null;
  protected _timesteps: readonly number[] = [];

  /** How betas/ᾱ were computed ('float64' unless 'torch-float32' was asked for). */
  readonly precision: AlphasPrecision;

  protected constructor(
    config: SchedulerConfig | ResolvedSchedulerConfig,
    where: string,
    options: SchedulerOptions = {},
    setAlphaToZeroAlias = false,
  ) {
    this.config = resolveSchedulerConfig(config, where, { setAlphaToZeroAlias });
    this.precision = options.precision ?? 'float64';
    this.betas = betasFromConfig(this.config, this.precision);
    this.alphasCumprod = alphasCumprodFromBetas(this.betas, this.precision);
  }

  get numTrainTimesteps(): number {
    return this.config.num_train_timesteps;
  }

  /** N of the last setTimesteps call, or null before it. */
  get numInferenceSteps(): number | null {
    return this._numInferenceSteps;
  }

  /** The timesteps of the last setTimesteps call (empty before it). */
  get timesteps(): readonly number[] {
    return this._timesteps;
  }

  /** T div N: the gap between consecutive levels that step() always uses, whatever the spacing. */
  get stepRatio(): number {
    return Math.floor(this.config.num_train_timesteps / this.requireSteps('stepRatio'));
  }

  /** Identity (DDIM needs no input scaling); present so callers can mirror diffusers loops. */
  scaleModelInput<V extends StepValue>(sample: V, _timestep?: number): V {
    return sample;
  }

  /** ᾱ[t] with a clear error for a timestep outside the table. */
  alphaCumprodAt(t: number, where: string): number {
    if (!Number.isInteger(t) || t < 0 || t >= this.alphasCumprod.length) {
      const hint =
        t === this.alphasCumprod.length
          ? ` (num_inference_steps = num_train_timesteps with steps_offset ${this.config.steps_offset} ` +
            `indexes one past the table; diffusers fails with an IndexError)`
          : '';
      throw new RangeError(
        `${where}: timestep ${t} is outside alphas_cumprod [0, ${this.alphasCumprod.length - 1}]${hint}`,
      );
    }
    return this.alphasCumprod[t];
  }

  /**
   * step()'s arrays: sample and model output, and the prevSample/predOriginalSample buffers (options.out and
   * options.predOriginalOut, or new ones), checked for length; predOriginalOut must alias none of the others.
   */
  protected stepBuffers<V extends StepValue>(
    modelOutput: V,
    sample: V,
    options: { out?: V; predOriginalOut?: V },
    where: string,
  ): StepBuffers<V> {
    const x = dataOf(sample);
    const n = x.length;
    const o = checkLength(modelOutput, n, 'modelOutput', where);
    const prevSample = options.out ?? allocLike(sample);
    const predOriginalSample = options.predOriginalOut ?? allocLike(sample);
    const out = checkLength(prevSample, n, 'out', where);
    const x0 = checkLength(predOriginalSample, n, 'predOriginalOut', where);
    if (overlaps(x0, x) || overlaps(x0, o) || overlaps(x0, out)) {
      throw new RangeError(`${where}: predOriginalOut must not share memory with modelOutput, sample or out`);
    }
    return { x, o, out, x0, prevSample, predOriginalSample };
  }

  protected requireSteps(where: string): number {
    if (this._numInferenceSteps === null) {
      throw new Error(
        `${where}: call setTimesteps(numInferenceSteps) first (diffusers: num_inference_steps is None)`,
      );
    }
    return this._numInferenceSteps;
  }

  /** add_noise: √ᾱ[t]·x0 + √(1−ᾱ[t])·noise; `t` is one timestep or one per batch row (Tensor inputs). */
  addNoise<V extends StepValue>(
    originalSamples: V,
    noise: V,
    timesteps: number | readonly number[],
    out?: V,
  ): V {
    return this.combine(originalSamples, noise, timesteps, out, 'addNoise', (a) => [
      Math.sqrt(a),
      Math.sqrt(1 - a),
    ]);
  }

  /** get_velocity: √ᾱ[t]·noise − √(1−ᾱ[t])·x0 (the v-prediction training target). */
  getVelocity<V extends StepValue>(sample: V, noise: V, timesteps: number | readonly number[], out?: V): V {
    return this.combine(sample, noise, timesteps, out, 'getVelocity', (a) => [
      -Math.sqrt(1 - a),
      Math.sqrt(a),
    ]);
  }

  private combine<V extends StepValue>(
    x: V,
    noise: V,
    timesteps: number | readonly number[],
    out: V | undefined,
    where: string,
    coefs: (a: number) => [number, number],
  ): V {
    const xs = dataOf(x);
    const ns = checkLength(noise, xs.length, 'noise', where);
    const result = out ?? allocLike(x);
    const d = checkLength(result, xs.length, 'out', where);
    const ts = typeof timesteps === 'number' ? [timesteps] : timesteps;
    const rows = ts.length;
    if (rows === 0 || xs.length % rows !== 0 || (rows > 1 && batchRows(x) !== rows)) {
      throw new RangeError(`${where}: ${rows} timesteps do not match the batch of the sample`);
    }
    const rowLen = xs.length / rows;
    for (let r = 0; r < rows; r++) {
      const [cx, cn] = coefs(this.alphaCumprodAt(ts[r], where));
      for (let i = r * rowLen; i < (r + 1) * rowLen; i++) d[i] = cx * xs[i] + cn * ns[i];
    }
    return result;
  }
}

/**
 * diffusers' DDIMScheduler (Song et al. 2020), numerically: step() goes from level t to t − (T div N).
 * All scalar maths is float64; arrays may be float32 (product) or float64 (reference tests).
 */
export class DDIMScheduler extends DDIMSchedulerBase {
  /** ᾱ used when the previous timestep is negative: 1 if set_alpha_to_one, else ᾱ[0]. */
  readonly finalAlphaCumprod: number;

  constructor(config: SchedulerConfig | ResolvedSchedulerConfig = {}, options: SchedulerOptions = {}) {
    super(config, 'DDIMScheduler', options);
    this.finalAlphaCumprod = this.config.set_alpha_to_one ? 1 : this.alphasCumprod[0];
  }

  /** From a parsed scheduler_config.json (unknown keys ignored, diffusers defaults for absent keys). */
  static fromConfig(json: unknown, options: SchedulerOptions = {}): DDIMScheduler {
    return new DDIMScheduler(resolveSchedulerConfig(json, 'DDIMScheduler.fromConfig'), options);
  }

  /** set_timesteps(N): fills `timesteps` (descending) per timestep_spacing and steps_offset. */
  setTimesteps(numInferenceSteps: number): readonly number[] {
    checkNumInferenceSteps(numInferenceSteps, this.config, 'DDIMScheduler.setTimesteps');
    this._numInferenceSteps = numInferenceSteps;
    this._timesteps = Object.freeze(ddimTimesteps(this.config, numInferenceSteps));
    return this._timesteps;
  }

  /** The level step(t) lands on: t − T div N. */
  previousTimestep(t: number): number {
    return t - this.stepRatio;
  }

  /** DDIM variance σ²(t, t_prev) = (1 − ᾱ_prev)/(1 − ᾱ_t)·(1 − ᾱ_t/ᾱ_prev). */
  variance(t: number, prevT: number): number {
    const aT = this.alphaCumprodAt(t, 'DDIMScheduler.variance');
    const aPrev = prevT >= 0 ? this.alphaCumprodAt(prevT, 'DDIMScheduler.variance') : this.finalAlphaCumprod;
    return ((1 - aPrev) / (1 - aT)) * (1 - aT / aPrev);
  }

  /**
   * step()'s coefficients at `timestep` when it takes its single-pass ε path (ε prediction, no thresholding,
   * η = 0, model output not recomputed from a clipped x̂0), for epsilonStep; undefined otherwise.
   */
  epsilonStepCoefficients(timestep: number, eta = 0): EpsilonStepCoefficients | undefined {
    const where = 'DDIMScheduler.step';
    const cfg = this.config;
    if (cfg.prediction_type !== 'epsilon' || cfg.thresholding || eta !== 0) return undefined;
    this.requireSteps(where);
    const prevT = this.previousTimestep(timestep);
    const aT = this.alphaCumprodAt(timestep, where);
    const aPrev = prevT >= 0 ? this.alphaCumprodAt(prevT, where) : this.finalAlphaCumprod;
    const std = eta * Math.sqrt(this.variance(timestep, prevT));
    return {
      sa: Math.sqrt(aT),
      sb: Math.sqrt(1 - aT),
      c1: Math.sqrt(aPrev),
      c2: Math.sqrt(1 - aPrev - std * std),
      clipRange: cfg.clip_sample ? cfg.clip_sample_range : Infinity,
    };
  }

  /**
   * One reverse DDIM step from level t to t − T div N. Returns { prevSample, predOriginalSample } of the same
   * kind as `sample` (Tensor or typed array). Pass `out`/`predOriginalOut` to reuse buffers across steps.
   */
  step<V extends StepValue>(
    modelOutput: V,
    timestep: number,
    sample: V,
    options: DDIMStepOptions<V> = {},
  ): SchedulerOutput<V> {
    const where = 'DDIMScheduler.step';
    this.requireSteps(where);
    const eta = options.eta ?? 0;
    if (!(eta >= 0)) throw new RangeError(`${where}: eta must be ≥ 0, got ${eta}`);
    const { x, o, out, x0, prevSample, predOriginalSample } = this.stepBuffers(
      modelOutput,
      sample,
      options,
      where,
    );
    const n = x.length;

    const prevT = this.previousTimestep(timestep);
    const aT = this.alphaCumprodAt(timestep, where);
    const aPrev = prevT >= 0 ? this.alphaCumprodAt(prevT, where) : this.finalAlphaCumprod;
    const bT = 1 - aT;
    const cfg = this.config;

    const std = eta * Math.sqrt(this.variance(timestep, prevT));
    const sqrtAPrev = Math.sqrt(aPrev);
    const dirCoef = Math.sqrt(1 - aPrev - std * std);
    const sqrtAT = Math.sqrt(aT);
    const sqrtBT = Math.sqrt(bT);
    const clipped = options.useClippedModelOutput === true;

    const single = clipped ? undefined : this.epsilonStepCoefficients(timestep, eta);
    if (single !== undefined) {
      // the product's case in one pass: x̂0 as predictOriginal computes it, stored, clipped as its second
      // pass does, then read back (rounded as the array holds it) for the step: what the passes below give
      const { sa, sb, c1, c2, clipRange } = single;
      epsilonStep(x, o, out, x0, sa, sb, c1, c2, clipRange);
      return { prevSample, predOriginalSample };
    }

    predictOriginal(
      cfg.prediction_type,
      aT,
      o,
      x,
      x0,
      cfg.clip_sample && !cfg.thresholding ? cfg.clip_sample_range : Infinity,
    );
    if (cfg.thresholding) {
      dynamicThreshold(x0, batchRows(sample), cfg.dynamic_thresholding_ratio, cfg.sample_max_value);
    }

    let noise: ArrayLike<number> | null = null;
    const rng = options.generator;
    if (eta > 0) {
      if (options.noise !== undefined) noise = checkLength(options.noise, n, 'noise', where);
      else if (rng === undefined) {
        throw new Error(`${where}: eta > 0 needs random noise: pass options.noise or options.generator`);
      }
    }
    // 0: ε̂ from the clipped x̂0, 1: ε̂ = out, 2: from a sample prediction, 3: from a v prediction.
    const type = cfg.prediction_type;
    const mode = clipped ? 0 : type === 'epsilon' ? 1 : type === 'sample' ? 2 : 3;
    for (let i = 0; i < n; i++) {
      const eps =
        mode === 1
          ? o[i]
          : mode === 3
            ? sqrtAT * o[i] + sqrtBT * x[i]
            : (x[i] - sqrtAT * (mode === 0 ? x0[i] : o[i])) / sqrtBT;
      let v = sqrtAPrev * x0[i] + dirCoef * eps;
      if (eta > 0) v += std * (noise !== null ? noise[i] : (rng as SeededRng).normal());
      out[i] = v;
    }
    return { prevSample, predOriginalSample };
  }
}

/** True when two typed-array views share bytes. */
function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}
