import { resolveSchedulerConfig } from './config.js';
import type { ResolvedSchedulerConfig, SchedulerConfig } from './config.js';
import { DDIMSchedulerBase } from './ddim.js';
import type { SchedulerOptions } from './ddim.js';
import { epsilonStep, predictOriginal } from './step-math.js';
import type { EpsilonStepCoefficients, SchedulerOutput, StepValue } from './step-math.js';
import { checkNumInferenceSteps, ddimInverseTimesteps } from './timesteps.js';

export interface DDIMInverseStepOptions<V extends StepValue> {
  /** Where to write prevSample (the noisier sample); may be `sample` or `modelOutput` (in place). */
  out?: V;
  /** Where to write predOriginalSample; must not alias any input. */
  predOriginalOut?: V;
}

/**
 * diffusers' DDIMInverseScheduler: step(out, t, x) moves x from level t − T div N (clamped to T − 1, ᾱ of a
 * negative level = initialAlphaCumprod) UP to level t, with the model evaluated at the target t (the usual
 * DDIM-inversion approximation, diffusers ≥ 0.22). No eta, no noise; thresholding is not supported there.
 */
export class DDIMInverseScheduler extends DDIMSchedulerBase {
  /**
   * ᾱ used when the source level is negative: 1 if set_alpha_to_one, else ᾱ[0]. The constructor (not
   * fromConfig, like diffusers' from_config) also accepts the deprecated alias set_alpha_to_zero.
   */
  readonly initialAlphaCumprod: number;

  constructor(config: SchedulerConfig | ResolvedSchedulerConfig = {}, options: SchedulerOptions = {}) {
    super(config, 'DDIMInverseScheduler', options, true);
    this.initialAlphaCumprod = this.config.set_alpha_to_one ? 1 : this.alphasCumprod[0];
  }

  /** From a parsed scheduler_config.json, e.g. the forward scheduler's (DDIMInverseScheduler.from_config). */
  static fromConfig(json: unknown, options: SchedulerOptions = {}): DDIMInverseScheduler {
    return new DDIMInverseScheduler(resolveSchedulerConfig(json, 'DDIMInverseScheduler.fromConfig'), options);
  }

  /** set_timesteps(N): fills `timesteps` (ascending); only 'leading' and 'trailing' spacing. */
  setTimesteps(numInferenceSteps: number): readonly number[] {
    checkNumInferenceSteps(numInferenceSteps, this.config, 'DDIMInverseScheduler.setTimesteps');
    this._timesteps = Object.freeze(ddimInverseTimesteps(this.config, numInferenceSteps));
    this._numInferenceSteps = numInferenceSteps;
    return this._timesteps;
  }

  /** The level step(t) starts from: min(t − T div N, T − 1). */
  sourceTimestep(t: number): number {
    return Math.min(t - this.stepRatio, this.config.num_train_timesteps - 1);
  }

  /** step()'s coefficients at `timestep` for ε predictions (its single-pass path, see epsilonStep), else undefined. */
  epsilonStepCoefficients(timestep: number): EpsilonStepCoefficients | undefined {
    const where = 'DDIMInverseScheduler.step';
    const cfg = this.config;
    if (cfg.prediction_type !== 'epsilon') return undefined;
    this.requireSteps(where);
    const tSrc = this.sourceTimestep(timestep);
    const aSrc = tSrc >= 0 ? this.alphaCumprodAt(tSrc, where) : this.initialAlphaCumprod;
    const aTgt = this.alphaCumprodAt(timestep, where);
    return {
      sa: Math.sqrt(aSrc),
      sb: Math.sqrt(1 - aSrc),
      c1: Math.sqrt(aTgt),
      c2: Math.sqrt(1 - aTgt),
      clipRange: cfg.clip_sample ? cfg.clip_sample_range : Infinity,
    };
  }

  /** One inversion step: from level sourceTimestep(t) to level t. */
  step<V extends StepValue>(
    modelOutput: V,
    timestep: number,
    sample: V,
    options: DDIMInverseStepOptions<V> = {},
  ): SchedulerOutput<V> {
    const where = 'DDIMInverseScheduler.step';
    this.requireSteps(where);
    const { x, o, out, x0, prevSample, predOriginalSample } = this.stepBuffers(
      modelOutput,
      sample,
      options,
      where,
    );
    const n = x.length;
    const tSrc = this.sourceTimestep(timestep);
    const aSrc = tSrc >= 0 ? this.alphaCumprodAt(tSrc, where) : this.initialAlphaCumprod;
    const aTgt = this.alphaCumprodAt(timestep, where);
    const cfg = this.config;
    const sqrtASrc = Math.sqrt(aSrc);
    const sqrtBSrc = Math.sqrt(1 - aSrc);
    const sqrtATgt = Math.sqrt(aTgt);
    const dirCoef = Math.sqrt(1 - aTgt);
    const type = cfg.prediction_type;
    const single = this.epsilonStepCoefficients(timestep);
    if (single !== undefined) {
      // the product's case in one pass: x̂0 as predictOriginal computes it, stored, clipped as its second
      // pass does, then read back (rounded as the array holds it) for the step: what the passes below give
      const { sa, sb, c1, c2, clipRange } = single;
      epsilonStep(x, o, out, x0, sa, sb, c1, c2, clipRange);
      return { prevSample, predOriginalSample };
    }
    predictOriginal(type, aSrc, o, x, x0, cfg.clip_sample ? cfg.clip_sample_range : Infinity);
    for (let i = 0; i < n; i++) {
      // ε̂ is never recomputed from a clipped x̂0 here (as in diffusers); ε predictions took the path above
      const eps =
        type === 'v_prediction' ? sqrtASrc * o[i] + sqrtBSrc * x[i] : (x[i] - sqrtASrc * o[i]) / sqrtBSrc;
      out[i] = sqrtATgt * x0[i] + dirCoef * eps;
    }
    return { prevSample, predOriginalSample };
  }
}
