import {
  TOY_MODEL_INDEX,
  TOY_SCHEDULER_CONFIG,
  TOY_TEXT_ENCODER_CONFIG,
  TOY_UNET_CONFIG,
  TOY_VAE_CONFIG,
} from './configs.js';
import { packJson } from './pack-io.js';
import { buildToyTextEncoder } from './toy-text-encoder.js';
import { toySpecialTokensMapJson, toyTokenizerConfigJson, toyTokenizerJson } from './tokenizer-files.js';
import { buildBenchUnet } from './bench-unet.js';
import { buildToyUnet } from './toy-unet.js';
import { buildToyVaeDecoder, buildToyVaeEncoder } from './toy-vae.js';

const MODEL_OPTIONS = { opsetVersion: 17, producerName: 'diffedit-studio', producerVersion: 'toy-world' };

/**
 * Every file of the toy Stable Diffusion pack, path (relative, '/'-separated) → bytes, in the folder layout of
 * optimum's ONNX export. Pure function of the source: the same code gives the same bytes.
 */
export function toySdPackFiles(): Map<string, Uint8Array> {
  return new Map<string, Uint8Array>([
    ['model_index.json', packJson(TOY_MODEL_INDEX)],
    ['scheduler/scheduler_config.json', packJson(TOY_SCHEDULER_CONFIG)],
    ['text_encoder/config.json', packJson(TOY_TEXT_ENCODER_CONFIG)],
    ['text_encoder/model.onnx', buildToyTextEncoder().toModelBytes(MODEL_OPTIONS)],
    ['tokenizer/tokenizer.json', packJson(toyTokenizerJson())],
    ['tokenizer/tokenizer_config.json', packJson(toyTokenizerConfigJson())],
    ['tokenizer/special_tokens_map.json', packJson(toySpecialTokensMapJson())],
    ['unet/config.json', packJson(TOY_UNET_CONFIG)],
    ['unet/model.onnx', buildToyUnet().toModelBytes(MODEL_OPTIONS)],
    ['vae_encoder/config.json', packJson(TOY_VAE_CONFIG)],
    ['vae_encoder/model.onnx', buildToyVaeEncoder().toModelBytes(MODEL_OPTIONS)],
    ['vae_decoder/config.json', packJson(TOY_VAE_CONFIG)],
    ['vae_decoder/model.onnx', buildToyVaeDecoder().toModelBytes(MODEL_OPTIONS)],
  ]);
}

/**
 * The toy SD pack with the bench UNet (bench-unet.ts) in place of the toy one: the same text encoder, VAE and
 * configs, so a workflow runs unchanged on it, with a UNet whose cost resembles a real one. For timing only.
 */
export function benchSdPackFiles(): Map<string, Uint8Array> {
  const files = toySdPackFiles();
  files.set('unet/model.onnx', buildBenchUnet().toModelBytes(MODEL_OPTIONS));
  return files;
}
