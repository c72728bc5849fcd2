import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipTokenizerJson } from '@diffedit/nodes';
import { writePackFiles } from '../../src/pack-io.js';
import { toySdPackFiles } from '../../src/sd-pack.js';
import { toyVocabulary } from '../../src/vocabulary.js';
import { clipIds, conceptOf, encodePrompts, openToySd } from './toy-sd-helpers.js';
import type { ToySd } from './toy-sd-helpers.js';

// CLIP's real vocabulary, test data in the shared reference folder beside the repository (never copied in).
const CLIP_REFERENCE = join(import.meta.dirname, '../../../../../shared/reference/clip-tokenizer');

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

const dirs: string[] = [];
let packDir: string;
let sd: ToySd;

beforeAll(async () => {
  packDir = await mkdtemp(join(tmpdir(), 'toy-sd-'));
  dirs.push(packDir);
  await writePackFiles(packDir, toySdPackFiles());
  sd = await openToySd(packDir);
});
afterAll(async () => {
  await sd?.release();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('toy SD pack files', () => {
  it('has the folder layout of an optimum SD export and stays small', async () => {
    expect(await listFiles(packDir)).toEqual([
      'model_index.json',
      'scheduler/scheduler_config.json',
      'text_encoder/config.json',
      'text_encoder/model.onnx',
      'tokenizer/special_tokens_map.json',
      'tokenizer/tokenizer.json',
      'tokenizer/tokenizer_config.json',
      'unet/config.json',
      'unet/model.onnx',
      'vae_decoder/config.json',
      'vae_decoder/model.onnx',
      'vae_encoder/config.json',
      'vae_encoder/model.onnx',
    ]);
    let total = 0;
    for (const f of await listFiles(packDir)) total += (await stat(join(packDir, f))).size;
    expect(total).toBeLessThan(1_000_000);
    const readJson = async (p: string): Promise<Record<string, unknown>> =>
      JSON.parse(await readFile(join(packDir, p), 'utf8')) as Record<string, unknown>;
    const scheduler = await readJson('scheduler/scheduler_config.json');
    expect(scheduler).toMatchObject({
      _class_name: 'DDIMScheduler',
      beta_schedule: 'scaled_linear',
      beta_start: 0.00085,
      beta_end: 0.012,
      num_train_timesteps: 1000,
      steps_offset: 1,
      set_alpha_to_one: false,
      prediction_type: 'epsilon',
      clip_sample: true,
      clip_sample_range: 1,
    });
    for (const vae of ['vae_encoder', 'vae_decoder']) {
      expect((await readJson(`${vae}/config.json`)).scaling_factor).toBe(0.18215);
    }
    expect(await readJson('tokenizer/tokenizer_config.json')).toMatchObject({
      model_max_length: 77,
      pad_token: '<|endoftext|>',
    });
  });

  it('generates identical bytes every time', async () => {
    const again = await mkdtemp(join(tmpdir(), 'toy-sd-again-'));
    dirs.push(again);
    await writePackFiles(again, toySdPackFiles());
    const files = await listFiles(packDir);
    for (const f of files) {
      const a = await readFile(join(packDir, f));
      const b = await readFile(join(again, f));
      expect(a.equals(b), f).toBe(true);
    }
    const inMemory = toySdPackFiles();
    expect([...inMemory.keys()].sort()).toEqual(files);
    for (const [f, bytes] of inMemory)
      expect(Buffer.from(bytes).equals(await readFile(join(packDir, f))), f).toBe(true);
  });

  it('declares the I/O names, dtypes and dynamic shapes of the real exports', () => {
    const meta = (s: ort.InferenceSession, io: 'inputMetadata' | 'outputMetadata'): unknown[] =>
      s[io].map((m) => (m.isTensor ? [m.name, m.type, m.shape.length] : [m.name]));
    expect(meta(sd.textEncoder, 'inputMetadata')).toEqual([['input_ids', 'int32', 2]]);
    expect(meta(sd.textEncoder, 'outputMetadata')).toEqual([
      ['last_hidden_state', 'float32', 3],
      ['pooler_output', 'float32', 2],
    ]);
    expect(meta(sd.unet, 'inputMetadata')).toEqual([
      ['sample', 'float32', 4],
      ['timestep', 'int64', 1],
      ['encoder_hidden_states', 'float32', 3],
    ]);
    expect(meta(sd.unet, 'outputMetadata')).toEqual([['out_sample', 'float32', 4]]);
    expect(meta(sd.vaeEncoder, 'inputMetadata')).toEqual([['sample', 'float32', 4]]);
    expect(meta(sd.vaeEncoder, 'outputMetadata')).toEqual([['latent_parameters', 'float32', 4]]);
    expect(meta(sd.vaeDecoder, 'inputMetadata')).toEqual([['latent_sample', 'float32', 4]]);
    expect(meta(sd.vaeDecoder, 'outputMetadata')).toEqual([['sample', 'float32', 4]]);
  });
});

describe('toy tokenizer', () => {
  it('encodes like CLIP: lower-cased words, 49406 … 49407, unknown words neutral', () => {
    expect(sd.tokenizer.encode('A Red APPLE').ids).toEqual([49406, 320, 736, 3055, 49407]);
    expect(sd.tokenizer.encode('').ids).toEqual([49406, 49407]);
    expect(sd.tokenizer.encode('a zorgle, apple.').ids).toEqual([49406, 320, 49407, 267, 3055, 269, 49407]);
    const padded = clipIds(sd.tokenizer, ['a red apple', 'word '.repeat(100)]);
    expect(padded.dims).toEqual([2, 77]);
    const data = padded.data as Int32Array;
    expect([...data.slice(0, 6)]).toEqual([49406, 320, 736, 3055, 49407, 49407]);
    expect(data[76]).toBe(49407);
    expect(data[77 + 76]).toBe(49407);
  });

  it.skipIf(!existsSync(join(CLIP_REFERENCE, 'vocab.json')))(
    "uses the ids of CLIP's own vocabulary for every single-piece word",
    async () => {
      const clip = JSON.parse(await readFile(join(CLIP_REFERENCE, 'vocab.json'), 'utf8')) as Record<
        string,
        number
      >;
      for (const [word, id] of toyVocabulary()) {
        if (word === 'cyan') expect(clip['cy']).toBe(id);
        else expect(clip[`${word}</w>`], word).toBe(id);
      }
    },
  );
});

describe('toy text encoder with the real CLIP tokenizer', () => {
  const reference = CLIP_REFERENCE;
  it.skipIf(!existsSync(join(reference, 'merges.txt')))(
    'reads the same concepts from ids made by CLIP BPE (vocab.json + merges.txt) as from the toy tokenizer',
    async () => {
      const clip = new Tokenizer(
        clipTokenizerJson({
          vocab: JSON.parse(await readFile(join(reference, 'vocab.json'), 'utf8')) as Record<string, number>,
          merges: await readFile(join(reference, 'merges.txt'), 'utf8'),
        }),
        {},
      );
      const prompts = [
        'a red apple',
        'A photograph of a cyan ball on a magenta background.',
        'a purple plum on a wooden table',
        'a shiny green pear next to a yellow wall',
        'an apple',
        'a zorgle on a red backdrop',
      ];
      const clipHidden = await sd.textEncoder.run({ input_ids: clipIds(clip, prompts) });
      const toyHidden = await encodePrompts(sd, prompts);
      prompts.forEach((p, b) => {
        expect(conceptOf(clipHidden.last_hidden_state, b), p).toEqual(conceptOf(toyHidden, b));
      });
      expect(conceptOf(toyHidden, 1)).toEqual([-1, 1, 1]);
      expect(conceptOf(toyHidden, 5)).toBeNull();
    },
  );
});

describe('toy text encoder', () => {
  const RED = [1, -1, -1];
  const GREEN = [-1, 1, -1];
  const BLUE = [-1, -1, 1];

  it('gives the colour of the object named by the prompt', async () => {
    const prompts = [
      'a red apple',
      'a green pear',
      'an apple',
      'a green apple',
      'a banana',
      'a photograph of a blue ball',
      '',
      'a ball on a table',
    ];
    const hidden = await encodePrompts(sd, prompts);
    expect(hidden.dims).toEqual([prompts.length, 77, 10]);
    expect(conceptOf(hidden, 0)).toEqual(RED);
    expect(conceptOf(hidden, 1)).toEqual(GREEN);
    expect(conceptOf(hidden, 2)).toEqual(RED);
    expect(conceptOf(hidden, 3)).toEqual(GREEN);
    expect(conceptOf(hidden, 4)).toEqual([1, 1, -1]);
    expect(conceptOf(hidden, 5)).toEqual(BLUE);
    expect(conceptOf(hidden, 6)).toBeNull();
    expect(conceptOf(hidden, 7)).toBeNull();
  });

  it('ignores colours that describe the background', async () => {
    const prompts = [
      'a red apple on a blue background',
      'a photograph of a red ball on a blue background',
      'a blue ball on a red backdrop',
      'a red apple in front of a white wall',
      'a green pear on a brown wooden table',
      'a red ball, yellow floor',
      'a blue background',
      'a photograph of a green ball on a dark red background',
    ];
    const hidden = await encodePrompts(sd, prompts);
    expect(conceptOf(hidden, 0)).toEqual(RED);
    expect(conceptOf(hidden, 1)).toEqual(RED);
    expect(conceptOf(hidden, 2)).toEqual(BLUE);
    expect(conceptOf(hidden, 3)).toEqual(RED);
    expect(conceptOf(hidden, 4)).toEqual(GREEN);
    expect(conceptOf(hidden, 5)).toEqual(RED);
    expect(conceptOf(hidden, 6)).toBeNull();
    expect(conceptOf(hidden, 7)).toEqual(GREEN);
    // The rule looks ahead only: a colour *after* the background noun still counts.
    const after = await encodePrompts(sd, ['a background with a red ball']);
    expect(conceptOf(after)).toEqual(RED);
  });

  it('averaging prompt embeddings averages their concepts', async () => {
    const hidden = await encodePrompts(sd, ['a red ball', 'a blue ball']);
    const data = hidden.data as Float32Array;
    const half = data.length / 2;
    const mean = new ort.Tensor(
      'float32',
      Float32Array.from({ length: half }, (_, i) => (data[i] + data[half + i]) / 2),
      [1, 77, 10],
    );
    expect(conceptOf(mean)).toEqual([0, -1, 0]);
  });

  it('pooler_output is the sum of the hidden states and the batch is dynamic', async () => {
    const prompts = ['a red apple', 'a blue ball on a green floor', ''];
    const batched = await sd.textEncoder.run({ input_ids: clipIds(sd.tokenizer, prompts) });
    const hidden = batched.last_hidden_state.data as Float32Array;
    const pooled = batched.pooler_output.data as Float32Array;
    expect(batched.pooler_output.dims).toEqual([3, 10]);
    for (let b = 0; b < 3; b++) {
      const single = await sd.textEncoder.run({ input_ids: clipIds(sd.tokenizer, [prompts[b]]) });
      expect([...(single.last_hidden_state.data as Float32Array)]).toEqual([
        ...hidden.slice(b * 770, (b + 1) * 770),
      ]);
      for (let k = 0; k < 10; k++) {
        let s = 0;
        for (let t = 0; t < 77; t++) s += hidden[b * 770 + t * 10 + k];
        expect(pooled[b * 10 + k]).toBeCloseTo(s, 5);
      }
    }
  });
});
