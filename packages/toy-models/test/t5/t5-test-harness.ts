import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import type { SeededRng } from '@diffedit/core';
import { TEXT_EMBEDDING, toySdPackFiles } from '../../src/index.js';

/** PromptT5's instruction (the product asks Flan-T5 exactly this). */
export function instructionFor(concept: string): string {
  return (
    `Provide a caption for images containing a ${concept}. ` +
    'The captions should be in English and should be no longer than 150 characters.'
  );
}

export const int64 = (values: readonly number[], dims: readonly number[]): ort.Tensor =>
  new ort.Tensor(
    'int64',
    BigInt64Array.from(values, (v) => BigInt(v)),
    dims,
  );

export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as object;
  const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as object;
  return new Tokenizer(json, config);
}

export interface Sampling {
  readonly temperature: number;
  readonly topK: number;
  readonly rng: SeededRng;
}

/** The last position's logits of row `b` of a [batch, seq, vocab] tensor. */
export function lastLogits(logits: ort.Tensor, b: number): Float32Array {
  const [, seq, vocab] = logits.dims;
  const data = logits.data as Float32Array;
  const start = (b * seq + seq - 1) * vocab;
  return data.slice(start, start + vocab);
}

/** Greedy (no sampling) or top-k sampling with temperature, as transformers' generate does it. */
export function pickToken(logits: Float32Array, sampling?: Sampling): number {
  if (!sampling) {
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
    return best;
  }
  const order = Array.from(logits.keys())
    .sort((a, b) => logits[b] - logits[a] || a - b)
    .slice(0, sampling.topK);
  const scaled = order.map((v) => logits[v] / sampling.temperature);
  const max = Math.max(...scaled);
  const weights = scaled.map((s) => Math.exp(s - max));
  let u = sampling.rng.uniform() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < order.length; i++) {
    u -= weights[i];
    if (u <= 0) return order[i];
  }
  return order[order.length - 1];
}

export interface T5Sessions {
  readonly encoder: ort.InferenceSession;
  readonly decoder: ort.InferenceSession;
  readonly merged: ort.InferenceSession;
}

export async function openT5(dir: string): Promise<T5Sessions> {
  const [encoder, decoder, merged] = await Promise.all(
    ['encoder_model.onnx', 'decoder_model.onnx', 'decoder_model_merged.onnx'].map((f) =>
      ort.InferenceSession.create(join(dir, f)),
    ),
  );
  return { encoder, decoder, merged };
}

export async function encode(
  sessions: T5Sessions,
  ids: readonly number[],
): Promise<{ hidden: ort.Tensor; mask: ort.Tensor }> {
  const mask = int64(
    ids.map(() => 1),
    [1, ids.length],
  );
  const out = await sessions.encoder.run({ input_ids: int64(ids, [1, ids.length]), attention_mask: mask });
  return { hidden: out.last_hidden_state, mask };
}

const EOS = 1;
const DECODER_START = 0;

/** Decoding with decoder_model.onnx: the whole prefix every step. Returns the generated ids (without start). */
export async function generatePlain(
  sessions: T5Sessions,
  instructionIds: readonly number[],
  maxNewTokens: number,
  sampling?: Sampling,
): Promise<number[]> {
  const { hidden, mask } = await encode(sessions, instructionIds);
  const ids = [DECODER_START];
  for (let step = 0; step < maxNewTokens; step++) {
    const out = await sessions.decoder.run({
      encoder_attention_mask: mask,
      input_ids: int64(ids, [1, ids.length]),
      encoder_hidden_states: hidden,
    });
    const next = pickToken(lastLogits(out.logits, 0), sampling);
    ids.push(next);
    if (next === EOS) break;
  }
  return ids.slice(1);
}

/**
 * Decoding with decoder_model_merged.onnx as transformers.js does it: step 0 without cache (empty past), then
 * only the new token with the presents of the previous step as past; the encoder's past is kept from step 0.
 * Returns the generated ids and each step's last-position logits.
 */
export async function generateMerged(
  sessions: T5Sessions,
  instructionIds: readonly number[],
  maxNewTokens: number,
  forced?: readonly number[],
): Promise<{ ids: number[]; logits: Float32Array[] }> {
  const { hidden, mask } = await encode(sessions, instructionIds);
  const encoderPast: Record<string, ort.Tensor> = {};
  let past: Record<string, ort.Tensor> = {};
  // Step 0 gets empty pasts [batch, heads, 0, d_kv], with heads and d_kv as the model declares them.
  sessions.merged.inputNames.forEach((name, i) => {
    const meta = sessions.merged.inputMetadata[i];
    if (!name.startsWith('past_key_values.') || !meta.isTensor) return;
    const [, heads, , dKv] = meta.shape;
    if (typeof heads !== 'number' || typeof dKv !== 'number')
      throw new Error(`${name}: heads/d_kv not fixed`);
    past[name] = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, dKv]);
  });
  const ids = [DECODER_START];
  const logits: Float32Array[] = [];
  for (let step = 0; step < maxNewTokens; step++) {
    const useCache = step > 0;
    const out = await sessions.merged.run({
      encoder_attention_mask: mask,
      input_ids: int64(useCache ? [ids[ids.length - 1]] : ids, [1, useCache ? 1 : ids.length]),
      encoder_hidden_states: hidden,
      use_cache_branch: new ort.Tensor('bool', Uint8Array.from([useCache ? 1 : 0]), [1]),
      ...past,
    });
    logits.push(lastLogits(out.logits, 0));
    const next = forced ? forced[step] : pickToken(lastLogits(out.logits, 0));
    past = {};
    for (const [name, value] of Object.entries(out)) {
      if (!name.startsWith('present.')) continue;
      const pastName = name.replace('present.', 'past_key_values.');
      if (name.includes('.encoder.') && useCache) past[pastName] = encoderPast[pastName];
      else {
        past[pastName] = value;
        if (name.includes('.encoder.')) encoderPast[pastName] = value;
      }
    }
    ids.push(next);
    if (next === EOS || (forced && step + 1 >= forced.length)) break;
  }
  return { ids: ids.slice(1), logits };
}

/**
 * The concept colour that the toy SD text encoder reads from each text (what EmbedPrompts averages and the toy
 * UNet pulls towards): the mean colour of its colour words, else of its object nouns; undefined when it has none.
 */
export async function toyTextConcepts(texts: readonly string[]): Promise<(number[] | undefined)[]> {
  const files = toySdPackFiles();
  const read = (path: string): object => JSON.parse(new TextDecoder().decode(files.get(path))) as object;
  const tokenizer = new Tokenizer(read('tokenizer/tokenizer.json'), read('tokenizer/tokenizer_config.json'));
  const model = files.get('text_encoder/model.onnx');
  if (!model) throw new Error('toy SD pack has no text encoder');
  const session = await ort.InferenceSession.create(model);
  try {
    const E = TEXT_EMBEDDING;
    const out: (number[] | undefined)[] = [];
    for (const text of texts) {
      const ids = tokenizer.encode(text).ids;
      const result = await session.run({
        input_ids: new ort.Tensor('int32', Int32Array.from(ids), [1, ids.length]),
      });
      const pooled = Array.from(result.pooler_output.data as Float32Array);
      const mean = (rgb: number, flag: number): number[] =>
        pooled.slice(rgb, rgb + 3).map((v) => v / pooled[flag]);
      if (pooled[E.colourWordFlag] > 0.5) out.push(mean(E.colourWordRgb, E.colourWordFlag));
      else if (pooled[E.nounFlag] > 0.5) out.push(mean(E.nounRgb, E.nounFlag));
      else out.push(undefined);
    }
    return out;
  } finally {
    await session.release();
  }
}
