export { betasFromConfig, alphasCumprodFromConfig, alphasCumprodFromBetas } from './betas.js';
export { resolveSchedulerConfig } from './config.js';
export type {
  SchedulerConfig,
  ResolvedSchedulerConfig,
  BetaSchedule,
  PredictionType,
  TimestepSpacing,
} from './config.js';
