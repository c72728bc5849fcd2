import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';
import type * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRng } from '@diffedit/core';
import { TOY_COLOUR_WORDS, TOY_OBJECT_WORDS, toyT5PackFiles, writePackFiles } from '../../src/index.js';
import type { T5Sessions } from './t5-test-harness.js';
import {
  encode,
  generateMerged,
  generatePlain,
  instructionFor,
  int64,
  lastLogits,
  loadTokenizer,
  openT5,
} from './t5-test-harness.js';
import { expectSameFiles } from '../sd-pack/pack-files.js';
import { describeIo } from '../sd-pack/session-io.js';
import type { Io } from '../sd-pack/session-io.js';

let dir: string;
let tokenizer: Tokenizer;
let sessions: T5Sessions;
let config: { d_model: number; num_heads: number; d_kv: number; num_layers: number; vocab_size: number };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toy-t5-'));
  await writePackFiles(dir, toyT5PackFiles());
  tokenizer = await loadTokenizer(dir);
  sessions = await openT5(dir);
  config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as typeof config;
});
afterAll(async () => {
  await Promise.all(Object.values(sessions ?? {}).map((s: ort.InferenceSession) => s.release()));
  await rm(dir, { recursive: true, force: true });
});

const idsOf = (text: string): number[] => tokenizer.encode(text).ids;
const textOf = (ids: readonly number[]): string => tokenizer.decode([...ids], { skip_special_tokens: true });

describe('toy Flan-T5 I/O matches optimum’s T5 export', () => {
  it('encoder_model.onnx', () => {
    const { encoder } = sessions;
    expect(describeIo(encoder.inputNames, encoder.inputMetadata)).toEqual([
      ['input_ids', 'int64', ['dyn', 'dyn']],
      ['attention_mask', 'int64', ['dyn', 'dyn']],
    ]);
    expect(describeIo(encoder.outputNames, encoder.outputMetadata)).toEqual([
      ['last_hidden_state', 'float32', ['dyn', 'dyn', config.d_model]],
    ]);
  });

  const presents = (selfLength: 'dyn'): Io[] =>
    Array.from({ length: config.num_layers }, (_, i) =>
      (['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value'] as const).map((part): Io => [
        `present.${i}.${part}`,
        'float32',
        ['dyn', config.num_heads, selfLength, config.d_kv],
      ]),
    ).flat();

  it('decoder_model.onnx (no cache)', () => {
    const { decoder } = sessions;
    expect(describeIo(decoder.inputNames, decoder.inputMetadata)).toEqual([
      ['encoder_attention_mask', 'int64', ['dyn', 'dyn']],
      ['input_ids', 'int64', ['dyn', 'dyn']],
      ['encoder_hidden_states', 'float32', ['dyn', 'dyn', config.d_model]],
    ]);
    expect(describeIo(decoder.outputNames, decoder.outputMetadata)).toEqual([
      ['logits', 'float32', ['dyn', 'dyn', config.vocab_size]],
      ...presents('dyn'),
    ]);
  });

  it('decoder_model_merged.onnx (past key/values + use_cache_branch)', () => {
    const { merged } = sessions;
    const pasts = presents('dyn').map(([name, type, shape]): Io => [
      name.replace('present', 'past_key_values'),
      type,
      shape,
    ]);
    expect(describeIo(merged.inputNames, merged.inputMetadata)).toEqual([
      ['encoder_attention_mask', 'int64', ['dyn', 'dyn']],
      ['input_ids', 'int64', ['dyn', 'dyn']],
      ['encoder_hidden_states', 'float32', ['dyn', 'dyn', config.d_model]],
      ...pasts,
      ['use_cache_branch', 'bool', [1]],
    ]);
    expect(describeIo(merged.outputNames, merged.outputMetadata)).toEqual([
      ['logits', 'float32', ['dyn', 'dyn', config.vocab_size]],
      ...presents('dyn'),
    ]);
  });
});

describe('toy Flan-T5 encoder finds the concept', () => {
  async function conceptWords(text: string): Promise<string[]> {
    const ids = idsOf(text);
    const { hidden } = await encode(sessions, ids);
    const data = hidden.data as Float32Array;
    const flagged = ids.filter((_, s) => data[s * config.d_model + 1] > 0.5);
    return flagged.map((id) => tokenizer.id_to_token(id) ?? '?');
  }

  it('takes the words between "containing a(n)" and "."', async () => {
    expect(await conceptWords(instructionFor('red apple'))).toEqual(['▁red', '▁apple']);
    expect(await conceptWords(instructionFor('cat'))).toEqual(['▁', 'c', 'a', 't']);
    expect(await conceptWords(instructionFor('orange').replace('a orange', 'an orange'))).toEqual([
      '▁orange',
    ]);
    expect(await conceptWords('Provide a caption for images containing a green pear')).toEqual([
      '▁green',
      '▁pear',
    ]);
    expect(await conceptWords('Provide a caption for images containing apples.')).toEqual(['▁apples']);
  });

  it('falls back to the colour and object words without "containing"', async () => {
    expect(await conceptWords('a photo of a green pear on a table')).toEqual(['▁green', '▁pear']);
  });
});

const CONCEPTS = ['red apple', 'green pear', 'apple', 'blue ball', 'yellow lemon', 'cat'];
const FOREIGN = new Set<string>([...TOY_COLOUR_WORDS, ...TOY_OBJECT_WORDS]);

/** Colour/object words of a caption that are not the concept's. */
function foreignWords(caption: string, concept: string): string[] {
  const own = new Set(concept.split(' '));
  return caption.split(/\s+/).filter((w) => FOREIGN.has(w) && !own.has(w));
}

describe('toy Flan-T5 captions', () => {
  it.each(CONCEPTS)('greedy decoding gives one fixed caption naming "%s"', async (concept) => {
    const ids = idsOf(instructionFor(concept));
    const first = textOf(await generatePlain(sessions, ids, 40));
    const second = textOf(await generatePlain(sessions, ids, 40));
    expect(second).toBe(first);
    expect(first).toContain(` ${concept}`);
    expect(foreignWords(first, concept)).toEqual([]);
  });

  it.each(CONCEPTS)(
    'sampling (seeded, temperature 0.8, top_k 10) gives ≥ 4 distinct of 16 captions, all naming "%s"',
    async (concept) => {
      const ids = idsOf(instructionFor(concept));
      const rng = new SeededRng(7).fork(concept);
      const captions: string[] = [];
      for (let i = 0; i < 16; i++) {
        const out = await generatePlain(sessions, ids, 40, { temperature: 0.8, topK: 10, rng });
        expect(out[out.length - 1], 'caption ends with </s>').toBe(1);
        captions.push(textOf(out));
      }
      expect(new Set(captions).size).toBeGreaterThanOrEqual(4);
      for (const caption of captions) {
        expect(caption).toMatch(new RegExp(`^an? .*\\b${concept}\\b`));
        expect(caption.length).toBeLessThanOrEqual(150);
        expect(foreignWords(caption, concept)).toEqual([]);
      }
    },
  );

  it('uses "an" before a vowel', async () => {
    expect(textOf(await generatePlain(sessions, idsOf(instructionFor('apple')), 40))).toMatch(/\ban apple\b/);
  });

  it('merged decoder with cache gives the plain decoder’s logits on the same prefixes', async () => {
    const instruction = idsOf(instructionFor('red apple'));
    // One greedy path and one forced through another template (a sampled caption), step by step.
    const greedy = await generatePlain(sessions, instruction, 40);
    const other = idsOf('a picture of a red apple on the table').slice(0, -1).concat([1]);
    expect(other).not.toEqual(greedy);
    const { hidden, mask } = await encode(sessions, instruction);
    for (const path of [greedy, other]) {
      const { ids, logits } = await generateMerged(sessions, instruction, 40, path);
      expect(ids).toEqual(path);
      for (let step = 0; step < path.length; step++) {
        const prefix = [0, ...path.slice(0, step)];
        const out = await sessions.decoder.run({
          encoder_attention_mask: mask,
          input_ids: int64(prefix, [1, prefix.length]),
          encoder_hidden_states: hidden,
        });
        const plain = lastLogits(out.logits, 0);
        let worst = 0;
        for (let v = 0; v < plain.length; v++) worst = Math.max(worst, Math.abs(plain[v] - logits[step][v]));
        expect(worst, `step ${step}`).toBeLessThan(1e-5);
      }
    }
  });

  it('decodes a padded batch row by row: each row gives its own logits, as if run alone', async () => {
    const prompts = [idsOf(instructionFor('red apple')), idsOf(instructionFor('cat'))];
    expect(prompts[0].length).not.toBe(prompts[1].length);
    const len = Math.max(...prompts.map((p) => p.length));
    const padded = prompts.flatMap((p) => [...p, ...new Array<number>(len - p.length).fill(0)]);
    const maskRows = prompts.flatMap((p) => [
      ...p.map(() => 1),
      ...new Array<number>(len - p.length).fill(0),
    ]);
    const mask = int64(maskRows, [2, len]);
    const enc = await sessions.encoder.run({ input_ids: int64(padded, [2, len]), attention_mask: mask });
    const prefix = [0, tokenizer.token_to_id('▁a') ?? -1];
    const batch = await sessions.decoder.run({
      encoder_attention_mask: mask,
      input_ids: int64([...prefix, ...prefix], [2, 2]),
      encoder_hidden_states: enc.last_hidden_state,
    });
    for (const [b, ids] of prompts.entries()) {
      const alone = await encode(sessions, ids);
      const single = await sessions.decoder.run({
        encoder_attention_mask: alone.mask,
        input_ids: int64(prefix, [1, 2]),
        encoder_hidden_states: alone.hidden,
      });
      expect(Array.from(lastLogits(batch.logits, b))).toEqual(Array.from(lastLogits(single.logits, 0)));
    }
    const argmax = (l: Float32Array): string => tokenizer.id_to_token(l.indexOf(Math.max(...l))) ?? '?';
    expect(argmax(lastLogits(batch.logits, 0))).toBe('▁red');
    expect(argmax(lastLogits(batch.logits, 1))).toBe('▁');
  });
});

describe('writePackFiles(toyT5PackFiles())', () => {
  it('writes the same bytes twice, in well under 1 MB', async () => {
    const again = await mkdtemp(join(tmpdir(), 'toy-t5-again-'));
    try {
      await writePackFiles(again, toyT5PackFiles());
      const files = (await readdir(dir)).sort();
      expect(files).toEqual([
        'config.json',
        'decoder_model.onnx',
        'decoder_model_merged.onnx',
        'encoder_model.onnx',
        'generation_config.json',
        'special_tokens_map.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ]);
      expect((await readdir(again)).sort()).toEqual(files);
      expect(await expectSameFiles(dir, again, files)).toBeLessThan(1024 * 1024);
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  });
});
