import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRng } from '@diffedit/core';
import { toyBlipPackFiles, writePackFiles } from '../../src/index.js';
import type { ShapeKind, SceneSpec } from '../../src/scenes/index.js';
import { SCENE_COLOURS, colourDistance, generateScene } from '../../src/scenes/index.js';
import type { ToyColourName } from '../../src/vocabulary.js';
import { loadTokenizer } from '../t5/t5-test-harness.js';
import type { BlipSessions } from './blip-test-harness.js';
import { captionOf, openBlip, pixelValuesOf, visionOf } from './blip-test-harness.js';
import { expectSameFiles } from '../sd-pack/pack-files.js';
import { describeIo } from '../sd-pack/session-io.js';

let dir: string;
let tokenizer: Tokenizer;
let sessions: BlipSessions;
const HIDDEN = 16;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toy-blip-'));
  await writePackFiles(dir, toyBlipPackFiles());
  tokenizer = await loadTokenizer(dir);
  sessions = await openBlip(dir);
});
afterAll(async () => {
  await Promise.all([sessions?.vision.release(), sessions?.decoder.release()]);
  await rm(dir, { recursive: true, force: true });
});

describe('toy BLIP I/O matches the blip-image-captioning export', () => {
  it('vision_model.onnx', () => {
    const { vision } = sessions;
    expect(describeIo(vision.inputNames, vision.inputMetadata)).toEqual([
      ['pixel_values', 'float32', ['dyn', 3, 384, 384]],
    ]);
    expect(describeIo(vision.outputNames, vision.outputMetadata)).toEqual([
      ['last_hidden_state', 'float32', ['dyn', 577, HIDDEN]],
      ['pooler_output', 'float32', ['dyn', HIDDEN]],
    ]);
  });

  it('text_decoder.onnx', () => {
    const { decoder } = sessions;
    expect(describeIo(decoder.inputNames, decoder.inputMetadata)).toEqual([
      ['input_ids', 'int64', ['dyn', 'dyn']],
      ['attention_mask', 'int64', ['dyn', 'dyn']],
      ['encoder_hidden_states', 'float32', ['dyn', 577, HIDDEN]],
    ]);
    expect(describeIo(decoder.outputNames, decoder.outputMetadata)).toEqual([
      ['logits', 'float32', ['dyn', 'dyn', 30524]],
    ]);
  });

  it('config.json and preprocessor_config.json describe the same model', async () => {
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as {
      text_config: Record<string, number>;
      vision_config: Record<string, number>;
    };
    expect(config.text_config.vocab_size).toBe(30524);
    expect(config.text_config.bos_token_id).toBe(30522);
    expect(config.text_config.sep_token_id).toBe(102);
    expect(config.vision_config.hidden_size).toBe(HIDDEN);
    const pre = JSON.parse(await readFile(join(dir, 'preprocessor_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(pre.size).toEqual({ height: 384, width: 384 });
    expect(pre.resample).toBe(3);
    expect(pre.image_mean).toEqual([0.48145466, 0.4578275, 0.40821073]);
    expect(pre.image_std).toEqual([0.26862954, 0.26130258, 0.27577711]);
  });
});

const NAMES = Object.keys(SCENE_COLOURS) as ToyColourName[];

/** Random contract scenes: colours ≥ 2.0 apart, random shape, size and position (the generator's defaults). */
function randomScenes(
  count: number,
  seed: number,
): Required<Pick<SceneSpec, 'object' | 'background' | 'seed'>>[] {
  const rng = new SeededRng(seed);
  const specs: Required<Pick<SceneSpec, 'object' | 'background' | 'seed'>>[] = [];
  while (specs.length < count) {
    const object = NAMES[rng.randint(0, NAMES.length)];
    const background = NAMES[rng.randint(0, NAMES.length)];
    if (colourDistance(object, background) >= 2.0)
      specs.push({ object, background, seed: rng.randint(0, 1_000_000) });
  }
  return specs;
}

describe('toy BLIP vision model', () => {
  it.each([
    ['red', 'blue', 'circle'],
    ['white', 'black', 'square'],
    ['pink', 'green', 'triangle'],
  ] as [ToyColourName, ToyColourName, ShapeKind][])(
    'summarises a %s object on %s (a %s): object and background colours, fill of the bounding box',
    async (object, background, shape) => {
      const scene = generateScene({ object, background, shape, radius: 80, seed: 3 });
      const out = await visionOf(sessions, [await pixelValuesOf(scene)]);
      const summary = Array.from(out.pooler_output.data as Float32Array);
      const row0 = Array.from((out.last_hidden_state.data as Float32Array).subarray(0, HIDDEN));
      expect(row0).toEqual(summary);
      const close = (a: readonly number[], b: readonly number[], tol: number): void =>
        a.forEach((v, i) => expect(Math.abs(v - b[i]), `${a} vs ${b}`).toBeLessThan(tol));
      close(summary.slice(0, 3), SCENE_COLOURS[object].signed, 0.05);
      close(summary.slice(3, 6), SCENE_COLOURS[background].signed, 0.02);
      const expectedFill = { circle: Math.PI / 4, square: 1, triangle: 0.5 }[shape as string] ?? NaN;
      expect(Math.abs(summary[6] - expectedFill)).toBeLessThan(0.04);
    },
  );
});

describe('toy BLIP captions (greedy after "a photograph of")', () => {
  it('captions a scene with the grammar and ends at [SEP]', async () => {
    const scene = generateScene({ object: 'red', background: 'blue', shape: 'circle', radius: 90, seed: 1 });
    const hidden = (await visionOf(sessions, [await pixelValuesOf(scene)])).last_hidden_state;
    expect(await captionOf(sessions, tokenizer, hidden)).toBe(
      'a photograph of a red circle on a blue background',
    );
    expect(await captionOf(sessions, tokenizer, hidden, '')).toBe(
      'a photograph of a red circle on a blue background',
    );
    expect(await captionOf(sessions, tokenizer, hidden, 'a picture of')).toBe(
      'a picture of a red circle on a blue background',
    );
  });

  it('names colours and shape of 12 random contract scenes (raw models)', async () => {
    const specs = randomScenes(12, 2024);
    let objectRight = 0;
    let backgroundRight = 0;
    let shapeRight = 0;
    const wrong: string[] = [];
    for (const spec of specs) {
      const scene = generateScene(spec);
      const hidden = (await visionOf(sessions, [await pixelValuesOf(scene)])).last_hidden_state;
      const caption = await captionOf(sessions, tokenizer, hidden);
      const match = /^a photograph of a (\w+) (\w+) on a (\w+) background$/.exec(caption);
      expect(match, caption).not.toBeNull();
      const [, objectWord, shapeWord, backgroundWord] = match ?? [];
      objectRight += objectWord === spec.object ? 1 : 0;
      backgroundRight += backgroundWord === spec.background ? 1 : 0;
      shapeRight += shapeWord === scene.spec.shape ? 1 : 0;
      if (
        objectWord !== spec.object ||
        backgroundWord !== spec.background ||
        shapeWord !== scene.spec.shape
      ) {
        wrong.push(`${spec.object} ${scene.spec.shape} on ${spec.background} → ${caption}`);
      }
    }
    expect(objectRight, wrong.join('\n')).toBeGreaterThanOrEqual(Math.ceil(0.9 * specs.length));
    expect(backgroundRight, wrong.join('\n')).toBeGreaterThanOrEqual(Math.ceil(0.9 * specs.length));
    expect(shapeRight, wrong.join('\n')).toBeGreaterThanOrEqual(Math.ceil(0.75 * specs.length));
  });

  it('captions each image of a batch by its own summary', async () => {
    const a = generateScene({ object: 'yellow', background: 'purple', shape: 'square', seed: 5 });
    const b = generateScene({ object: 'cyan', background: 'red', shape: 'circle', seed: 6 });
    const out = await visionOf(sessions, [await pixelValuesOf(a), await pixelValuesOf(b)]);
    const hidden = out.last_hidden_state;
    const [, tokens, d] = hidden.dims;
    const row = (i: number): ort.Tensor =>
      new ort.Tensor('float32', (hidden.data as Float32Array).slice(i * tokens * d, (i + 1) * tokens * d), [
        1,
        tokens,
        d,
      ]);
    expect(await captionOf(sessions, tokenizer, row(0))).toMatch(
      /^a photograph of a yellow \w+ on a purple background$/,
    );
    expect(await captionOf(sessions, tokenizer, row(1))).toMatch(
      /^a photograph of a cyan \w+ on a red background$/,
    );
  });
});

describe('writePackFiles(toyBlipPackFiles())', () => {
  it('writes the same bytes twice, in well under 1 MB', async () => {
    const again = await mkdtemp(join(tmpdir(), 'toy-blip-again-'));
    try {
      await writePackFiles(again, toyBlipPackFiles());
      const files = (await readdir(dir)).sort();
      expect(files).toEqual([
        'config.json',
        'preprocessor_config.json',
        'special_tokens_map.json',
        'text_decoder.onnx',
        'tokenizer.json',
        'tokenizer_config.json',
        'vision_model.onnx',
      ]);
      expect(await expectSameFiles(dir, again, files)).toBeLessThan(1024 * 1024);
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  });
});
