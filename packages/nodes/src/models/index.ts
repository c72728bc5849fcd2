export { ModelManager, DEFAULT_PROVIDERS, defaultIntraOpThreads } from './model-manager.js';
export type { ModelManagerOptions, ProviderInfo, SessionInfo } from './model-manager.js';
export { detectRole, checkModelFiles, scanModelsFolder, folderSize } from './model-registry.js';
export type { ModelListing, ModelRole, ScannedModel } from './model-registry.js';
export { DiffusionModel, DIFFUSION_FILES } from './diffusion-model.js';
export { timestepFeed, programUnet, unetIo } from './unet-call.js';
export type { UnetIo } from './unet-call.js';
export { defineProgram } from './program.js';
export type {
  ProgramCall,
  ProgramContext,
  ProgramFunction,
  ProgramRef,
  ProgramResult,
  ProgramStats,
} from './program.js';
export { canRunProgram, runProgram } from './program-client.js';
export type { ProgramInvocation } from './program-client.js';
export type {
  DiffusionModelOptions,
  ModelCallCounts,
  ModelCallOptions,
  VaeEncoding,
} from './diffusion-model.js';
export { T5Model, T5_FILES, T5_SAMPLING_DEFAULTS, t5OnnxDir } from './t5-model.js';
export type { T5GenerateOptions, T5ModelOptions } from './t5-model.js';
export { BlipModel, BLIP_FILES, BLIP_CAPTION_DEFAULTS, blipOnnxDir } from './blip-model.js';
export type { BlipCaptionOptions } from './blip-model.js';
export {
  blipPixelValues,
  blipImageSettings,
  toUint8Rgb,
  CLIP_IMAGE_MEAN,
  CLIP_IMAGE_STD,
} from './blip-image-processor.js';
export type { BlipImageSettings, CaptionImage, Uint8RgbImage } from './blip-image-processor.js';
export { TextTokenizer } from './text-tokenizer.js';
export type { TextTokenizerInfo } from './text-tokenizer.js';
export { CLIP_NORMALIZER, clipTokenizerJson, parseMerges } from './clip-tokenizer-json.js';
export { addedToken } from './added-token.js';
export type { ClipVocabFiles } from './clip-tokenizer-json.js';
export { argmax, sampleToken } from './token-sampling.js';
export { ModelError, abortError } from './model-errors.js';
export type { ModelErrorCode } from './model-errors.js';
export { SessionPool } from './session-pool.js';
export { settleThreadCpuClock, threadCpuMs } from './thread-cpu.js';
export type { ModelLogger, SessionRunObserver } from './session-pool.js';
export { InProcessBackend } from './in-process-backend.js';
export { closeModelWorkers, WorkerBackend } from './worker-backend.js';
export { createSessionBackend } from './session-backends.js';
export { defaultWorkerPath } from './worker-location.js';
export { openOrtSession, providerUnavailableReason, SessionOpenError, toOrtFeeds } from './ort-session.js';
export type { ProviderAttempt, SessionCreateOptions } from './ort-session.js';
export type { InferenceMode, ModelSession, RunOptions, SessionBackend } from './model-session.js';
export type { IoSpec, SessionDescription } from './io-spec.js';
export { floatFeed, numberFeed, wireTensor, wireToFloat32, wireToTensor } from './wire-tensor.js';
export type { WireDType, WireData, WireFeeds, WireTensor } from './wire-tensor.js';
