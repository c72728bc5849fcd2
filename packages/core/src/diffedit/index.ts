export {
  classifierFreeGuidance,
  guide,
  splitGuidanceBatch,
  usesClassifierFreeGuidance,
  duplicateForGuidance,
  guidanceEmbeddings,
} from './guidance.js';
export {
  maskUnetBatchLayout,
  maskGuidedEstimates,
  diffEditMaskFromEstimates,
  diffEditMaskFromUnetOutput,
  diffEditMaskFromUnetRowBlocks,
  maskToInt64,
} from './mask.js';
export type { MaskEmbeddingOrder, MaskPromptSlot, DiffEditMaskOptions, DiffEditMask } from './mask.js';
export {
  maskedDenoisePlan,
  diffEditBlend,
  guidedEpsilonStepBlend,
  stackInvertedLatents,
  invertedLatentsStepMajor,
} from './blend.js';
export type { MaskedDenoiseStep } from './blend.js';
export {
  getEpsilon,
  klDivergenceLoss,
  autoCorrelationLoss,
  rollsFromGenerator,
  regulariseNoisePrediction,
  regulariseNoisePredictionAsync,
} from './regularisation.js';
export type {
  LossAndGradient,
  RollSource,
  InversionRegularisationOptions,
  FloatTensorLike,
} from './regularisation.js';
export {
  SD_VAE_SCALING_FACTOR,
  sampleVaePosterior,
  sampleVaePosteriorDraws,
  vaePosteriorMean,
  unscaleLatents,
  imageToModelRange,
  modelRangeToImage,
  decodedToImage,
  binariseMask,
  maskAsNchw,
  resizeMaskToLatent,
  preprocessMask,
} from './vae.js';
export type { MaskResizeMode } from './vae.js';
export { createDiffEditSchedulers, diffEditSchedulerConfig } from './diffedit-schedulers.js';
export type { DiffEditSchedulerConfig, DiffEditSchedulers } from './diffedit-schedulers.js';
