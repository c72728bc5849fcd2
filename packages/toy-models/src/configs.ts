import type { SchedulerConfig } from '@diffedit/core';
import { TEXT_EMBEDDING } from './toy-text-encoder.js';
import { CLIP_BOS_ID, CLIP_EOS_ID, CLIP_MAX_LENGTH } from './vocabulary.js';

/** Marks every config of the pack as toy-world output (a loader can tell it from a real export). */
const TOY_NOTE = 'DiffEdit Studio toy world: generated from source, see docs/toy-world.md';
export const TOY_PACK_VERSION = 1;

/** DDIM with SD's betas; clip_sample keeps guided estimates inside the toy latent space [-1, 1]. */
export const TOY_SCHEDULER_CONFIG = {
  _class_name: 'DDIMScheduler',
  _diffusers_version: '0.30.0',
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  trained_betas: null,
  steps_offset: 1,
  set_alpha_to_one: false,
  prediction_type: 'epsilon',
  clip_sample: true,
  clip_sample_range: 1.0,
  thresholding: false,
  timestep_spacing: 'leading',
  rescale_betas_zero_snr: false,
} as const satisfies SchedulerConfig;

export const TOY_MODEL_INDEX = {
  _class_name: 'StableDiffusionPipeline',
  _diffusers_version: '0.30.0',
  _toy_world: TOY_NOTE,
  _toy_pack_version: TOY_PACK_VERSION,
  feature_extractor: [null, null],
  requires_safety_checker: false,
  safety_checker: [null, null],
  scheduler: ['diffusers', 'DDIMScheduler'],
  text_encoder: ['transformers', 'CLIPTextModel'],
  tokenizer: ['transformers', 'CLIPTokenizer'],
  unet: ['diffusers', 'UNet2DConditionModel'],
  vae_decoder: ['diffusers', 'AutoencoderKL'],
  vae_encoder: ['diffusers', 'AutoencoderKL'],
} as const;

export const TOY_TEXT_ENCODER_CONFIG = {
  _toy_world: TOY_NOTE,
  architectures: ['CLIPTextModel'],
  model_type: 'clip_text_model',
  hidden_size: TEXT_EMBEDDING.size,
  projection_dim: TEXT_EMBEDDING.size,
  intermediate_size: TEXT_EMBEDDING.size,
  num_attention_heads: 1,
  num_hidden_layers: 0,
  max_position_embeddings: CLIP_MAX_LENGTH,
  vocab_size: 49408,
  bos_token_id: CLIP_BOS_ID,
  eos_token_id: CLIP_EOS_ID,
  pad_token_id: CLIP_EOS_ID,
  hidden_act: 'quick_gelu',
  torch_dtype: 'float32',
};

export const TOY_UNET_CONFIG = {
  _class_name: 'UNet2DConditionModel',
  _diffusers_version: '0.30.0',
  _toy_world: TOY_NOTE,
  sample_size: 64,
  in_channels: 4,
  out_channels: 4,
  cross_attention_dim: TEXT_EMBEDDING.size,
  block_out_channels: [320, 640, 1280, 1280],
  layers_per_block: 2,
  attention_head_dim: 8,
};

/** block_out_channels has four entries as in SD's VAE: loaders derive the ×8 latent scale from it. */
export const TOY_VAE_CONFIG = {
  _class_name: 'AutoencoderKL',
  _diffusers_version: '0.30.0',
  _toy_world: TOY_NOTE,
  in_channels: 3,
  out_channels: 3,
  latent_channels: 4,
  sample_size: 512,
  scaling_factor: 0.18215,
  block_out_channels: [128, 256, 512, 512],
  layers_per_block: 2,
  act_fn: 'silu',
  norm_num_groups: 32,
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
};
