import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRng } from '@diffedit/core';
import { BlipModel, InProcessBackend, SessionPool } from '@diffedit/nodes';
import { toyBlipPackFiles, writePackFiles } from '../../src/index.js';
import { SCENE_COLOURS, colourDistance, generateScene, sceneToUint8 } from '../../src/scenes/index.js';
import type { ToyColourName } from '../../src/vocabulary.js';
import { toyTextConcepts } from '../t5/t5-test-harness.js';

// The toy pack through the product's own loader: BlipImageProcessor settings from preprocessor_config.json,
// BLIP's [DEC]/[SEP] rules, greedy decoding after "a photograph of".
let dir: string;
let model: BlipModel;
const pool = new SessionPool(new InProcessBackend(), { providers: ['cpu'] });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toy-blip-loader-'));
  await writePackFiles(dir, toyBlipPackFiles());
  model = await BlipModel.load(dir, pool);
});
afterAll(async () => {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
});

const NAMES = Object.keys(SCENE_COLOURS) as ToyColourName[];

describe('toy BLIP through BlipModel (CaptionBLIP’s path)', () => {
  it('reads 384² and CLIP normalisation from preprocessor_config.json', () => {
    expect(model.imageSettings).toMatchObject({
      width: 384,
      height: 384,
      mean: [0.48145466, 0.4578275, 0.40821073],
    });
  });

  it('names object and background colours on ≥ 90 % of 24 random contract scenes; the caption’s concept is the object’s colour', async () => {
    const rng = new SeededRng(77);
    const results: { truth: string; caption: string; object: ToyColourName; background: ToyColourName }[] =
      [];
    while (results.length < 24) {
      const object = NAMES[rng.randint(0, NAMES.length)];
      const background = NAMES[rng.randint(0, NAMES.length)];
      if (colourDistance(object, background) < 2.0) continue;
      const scene = generateScene({ object, background, seed: rng.randint(0, 1_000_000) });
      const caption = await model.caption({
        width: scene.width,
        height: scene.height,
        data: sceneToUint8(scene),
      });
      results.push({ truth: `${object} ${scene.spec.shape} on ${background}`, caption, object, background });
    }
    const report = results.map((r) => `${r.truth} → ${r.caption}`).join('\n');
    const parsed = results.map((r) =>
      /^a photograph of a (\w+) (\w+) on a (\w+) background$/.exec(r.caption),
    );
    expect(
      parsed.every((m) => m !== null),
      report,
    ).toBe(true);
    const objectRight = results.filter((r, i) => parsed[i]?.[1] === r.object).length;
    const backgroundRight = results.filter((r, i) => parsed[i]?.[3] === r.background).length;
    expect(objectRight, report).toBeGreaterThanOrEqual(Math.ceil(0.9 * results.length));
    expect(backgroundRight, report).toBeGreaterThanOrEqual(Math.ceil(0.9 * results.length));

    // DDIM inversion is conditioned on the caption: the toy text encoder must read the object's colour from it.
    const concepts = await toyTextConcepts(results.map((r) => r.caption));
    const conceptRight = results.filter((r, i) => {
      const c = concepts[i];
      return c !== undefined && Math.hypot(...c.map((v, k) => v - SCENE_COLOURS[r.object].signed[k])) < 1e-6;
    }).length;
    expect(conceptRight, report).toBeGreaterThanOrEqual(Math.ceil(0.9 * results.length));
  });
});
