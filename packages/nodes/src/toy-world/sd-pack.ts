import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  TOY_MODEL_INDEX,
  TOY_SCHEDULER_CONFIG,
  TOY_TEXT_ENCODER_CONFIG,
  TOY_UNET_CONFIG,
  TOY_VAE_CONFIG,
} from './configs.js';
import { buildToyTextEncoder } from './text-encoder.js';
import { toySpecialTokensMapJson, toyTokenizerConfigJson, toyTokenizerJson } from './tokenizer-files.js';
import { buildToyUnet } from './unet.js';
import { buildToyVaeDecoder, buildToyVaeEncoder } from './vae.js';

const MODEL_OPTIONS = { opsetVersion: 17, producerName: 'diffedit-studio', producerVersion: 'toy-world' };

/** A pack's JSON file: two-space indented, newline at the end (as transformers and diffusers write them). */
export function packJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
}

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
 * Writes `files` under `dir`, skipping files whose bytes on disk are already equal (so an up-to-date pack is
 * left untouched). Returns the paths written.
 */
export async function writePackFiles(dir: string, files: Map<string, Uint8Array>): Promise<string[]> {
  const written: string[] = [];
  for (const [path, bytes] of files) {
    const target = join(dir, ...path.split('/'));
    const current = await readFile(target).catch(() => undefined);
    if (current && Buffer.from(bytes).equals(current)) continue;
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
    written.push(path);
  }
  return written;
}

/** Writes (or refreshes) the toy Stable Diffusion pack in `dir`. Deterministic bytes. */
export async function writeToySdPack(dir: string): Promise<void> {
  await writePackFiles(dir, toySdPackFiles());
}
