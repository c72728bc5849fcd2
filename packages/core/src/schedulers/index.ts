export { betasFromConfig, alphasCumprodFromConfig, alphasCumprodFromBetas } from './betas.js';
export type { AlphasPrecision } from './betas.js';
export { resolveSchedulerConfig } from './config.js';
export type {
  SchedulerConfig,
  ResolvedSchedulerConfig,
  BetaSchedule,
  PredictionType,
  TimestepSpacing,
  ResolveOptions,
} from './config.js';
export { DDIMScheduler, DDIMSchedulerBase } from './ddim.js';
export type { DDIMStepOptions, SchedulerOptions } from './ddim.js';
export { DDIMInverseScheduler } from './ddim-inverse.js';
export type { DDIMInverseStepOptions } from './ddim-inverse.js';
export type { EpsilonStepCoefficients, FloatArray, StepValue, SchedulerOutput } from './step-math.js';
export { guidedEpsilonStep } from './step-math.js';
export { getTimesteps, getInverseTimesteps, maskEncodeTimestep, strengthToSteps } from './strength.js';
export type { StrengthSlice } from './strength.js';
export {
  roundHalfEven,
  numpyArange,
  numpyLinspace,
  ddimTimesteps,
  ddimInverseTimesteps,
} from './timesteps.js';
