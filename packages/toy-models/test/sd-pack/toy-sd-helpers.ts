import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { TEXT_EMBEDDING } from '../../src/toy-text-encoder.js';

/** Sessions over a written toy SD pack, opened by path as a loader would. */
export interface ToySd {
  tokenizer: Tokenizer;
  textEncoder: ort.InferenceSession;
  unet: ort.InferenceSession;
  vaeEncoder: ort.InferenceSession;
  vaeDecoder: ort.InferenceSession;
  release(): Promise<void>;
}

export async function openToySd(dir: string): Promise<ToySd> {
  const readJson = async (path: string): Promise<object> =>
    JSON.parse(await readFile(join(dir, path), 'utf8')) as object;
  const tokenizer = new Tokenizer(
    await readJson('tokenizer/tokenizer.json'),
    await readJson('tokenizer/tokenizer_config.json'),
  );
  const open = (name: string): Promise<ort.InferenceSession> =>
    ort.InferenceSession.create(join(dir, name, 'model.onnx'));
  const [textEncoder, unet, vaeEncoder, vaeDecoder] = await Promise.all(
    ['text_encoder', 'unet', 'vae_encoder', 'vae_decoder'].map(open),
  );
  return {
    tokenizer,
    textEncoder,
    unet,
    vaeEncoder,
    vaeDecoder,
    release: async () => {
      await Promise.all([textEncoder, unet, vaeEncoder, vaeDecoder].map((s) => s.release()));
    },
  };
}

/** CLIP-style ids: bos … eos, truncated to 77 (keeping eos) and padded with eos (49407). */
export function clipIds(tokenizer: Tokenizer, prompts: string[]): ort.Tensor {
  const data = new Int32Array(prompts.length * 77).fill(49407);
  prompts.forEach((prompt, b) => {
    let ids = tokenizer.encode(prompt).ids;
    if (ids.length > 77) ids = [...ids.slice(0, 76), 49407];
    data.set(ids, b * 77);
  });
  return new ort.Tensor('int32', data, [prompts.length, 77]);
}

export async function encodePrompts(sd: ToySd, prompts: string[]): Promise<ort.Tensor> {
  const out = await sd.textEncoder.run({ input_ids: clipIds(sd.tokenizer, prompts) });
  return out.last_hidden_state;
}

/**
 * The concept a hidden-state batch carries, read the way the toy UNet reads it: colour words' mean colour if any,
 * else object nouns' mean colour; null when the prompt has no content word.
 */
export function conceptOf(hidden: ort.Tensor, batchIndex = 0): number[] | null {
  const [, seq, d] = hidden.dims;
  const data = hidden.data as Float32Array;
  const sum = new Float64Array(d);
  for (let t = 0; t < seq; t++) for (let k = 0; k < d; k++) sum[k] += data[(batchIndex * seq + t) * d + k];
  const E = TEXT_EMBEDDING;
  const words = sum[E.colourWordFlag];
  const nouns = sum[E.nounFlag];
  if (words + nouns === 0) return null;
  const from = words > 0 ? E.colourWordRgb : E.nounRgb;
  const n = words > 0 ? words : nouns;
  return [0, 1, 2].map((c) => sum[from + c] / n);
}
