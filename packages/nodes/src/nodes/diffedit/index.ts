import type { NodeDefinition } from '@diffedit/core';

import './values.js';

import { CaptionBLIPNode } from './caption-blip.js';
import { DDIMInvertNode } from './ddim-invert.js';
import { EmbedPromptsNode } from './embed-prompts.js';
import { GenerateMaskNode } from './generate-mask.js';
import { MaskedDenoiseNode } from './masked-denoise.js';
import { PromptT5Node } from './prompt-t5.js';
import { VAEDecodeNode } from './vae-decode.js';
import { VAEEncodeNode } from './vae-encode.js';

export type { EncodedImage, InvertedLatents } from './values.js';
export { meanOverPrompts, promptEmbedding, promptWarnings } from './prompt-embeddings.js';
export type { PromptValue } from './prompt-embeddings.js';
export {
  decodeScaledLatents,
  decodeScaledLatentsHere,
  encodeImage,
  encodeImageHere,
  requireSingleImage,
  sampleImageLatents,
  UNSEEDED_POSTERIOR,
} from './image-latents.js';
export { forgetRememberedSourceRows, rememberedBytes, rememberedRows } from './mask-source-memo.js';
export { DECODE_IMAGE_PROGRAM, ENCODE_IMAGE_PROGRAM } from './vae-programs.js';
export type {
  DecodeImageInput,
  DecodeImageOutput,
  EncodeImageInput,
  EncodeImageOutput,
} from './vae-programs.js';
export { LatentPreviewer, ProgressRelay } from './latent-previews.js';
export { DENOISE_PROGRAM, INVERT_PROGRAM, MASK_PROGRAM } from './loop-programs.js';
export type { DenoiseInput, InvertInput, MaskInput, TensorData, UnetSetup } from './loop-programs.js';
export type { PreviewSettings, StepEvent } from './step-reporter.js';
export { maskForLatents, maskWarnings } from './masked-denoise.js';
export { modelSchedulerConfig } from './diffusion-setup.js';
export { T5_CAPTION_INSTRUCTION } from './prompt-t5.js';
export {
  CaptionBLIPNode,
  DDIMInvertNode,
  EmbedPromptsNode,
  GenerateMaskNode,
  MaskedDenoiseNode,
  PromptT5Node,
  VAEDecodeNode,
  VAEEncodeNode,
};

export const diffEditNodes: readonly NodeDefinition[] = [
  CaptionBLIPNode,
  PromptT5Node,
  EmbedPromptsNode,
  VAEEncodeNode,
  GenerateMaskNode,
  DDIMInvertNode,
  MaskedDenoiseNode,
  VAEDecodeNode,
];
