// The generated toy pack goes through exactly the loaders real exports take, with the manager's defaults (worker
// mode, as the runtime wiring and so the DiffEdit nodes use it). Needs the compiled worker: npx tsc -b.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRng, Tensor } from '@diffedit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateScene, sceneToSignedChw, sceneToUint8, writeToyPack } from '../src/index.js';
import { defaultWorkerPath, ModelManager } from '@diffedit/nodes';

const modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-toy-pack-'));
const manager = new ModelManager({ modelsDir, providers: ['cpu'], logger: () => {} });

beforeAll(async () => {
  if (!existsSync(defaultWorkerPath())) {
    throw new Error(
      `the toy-pack tests need the compiled worker ${defaultWorkerPath()}: run npx tsc -b first`,
    );
  }
  await writeToyPack(modelsDir);
});
afterAll(async () => {
  await manager.close();
  rmSync(modelsDir, { recursive: true, force: true });
});

describe('toy pack through the model layer', () => {
  it('lists toy-sd, toy-flan-t5 and toy-blip with their roles, and they load', async () => {
    const list = await manager.listModels({ probe: true });
    expect(list.map((m) => [m.name, m.role, m.loads, m.loaded])).toEqual([
      ['toy-blip', 'blip', true, true],
      ['toy-flan-t5', 't5', true, true],
      ['toy-sd', 'diffusion', true, true],
    ]);
    for (const m of list) expect(m.sizeBytes).toBeGreaterThan(1000);
  });

  it('runs every session in the worker thread by default', async () => {
    expect(manager.mode).toBe('worker');
    await manager.loadDiffusion('toy-sd');
    const info = await manager.providerInfo();
    expect(info.mode).toBe('worker');
    expect(info.sessions.length).toBeGreaterThanOrEqual(4);
    expect(info.sessions.map((s) => s.mode)).toEqual(info.sessions.map(() => 'worker'));
  });

  it('toy-sd: prompt embeddings, VAE round trip of a flat colour, a UNet step', async () => {
    const sd = await manager.loadDiffusion('toy-sd');
    expect(sd.latentChannels).toBe(4);
    expect(sd.vaeScaleFactor).toBe(8);
    expect(sd.schedulerConfig.clip_sample).toBe(true);
    const emb = await sd.encodePrompt(['a red apple', '']);
    expect(emb.dims).toEqual([2, 77, sd.embeddingDim]);

    const scene = generateScene({
      object: 'red',
      background: 'blue',
      width: 64,
      height: 64,
      radius: 16,
      centre: [32, 32],
    });
    const image = new Tensor([1, 3, 64, 64], sceneToSignedChw(scene));
    const enc = await sd.vaeEncode(image);
    expect(enc.kind).toBe('parameters');
    if (enc.kind !== 'parameters') return;
    // the toy VAE's contract: mean·scaling_factor is the block's colour; the corner block is background blue
    const plane = 8 * 8;
    const corner = [0, 1, 2].map((c) => enc.mean.data[c * plane] * sd.scalingFactor);
    expect(corner[0]).toBeCloseTo(-1, 3);
    expect(corner[1]).toBeCloseTo(-1, 3);
    expect(corner[2]).toBeCloseTo(1, 3);
    const decoded = await sd.vaeDecode(enc.mean);
    expect(decoded.dims).toEqual([1, 3, 64, 64]);

    const latents = new Tensor([2, 4, 8, 8], new SeededRng(1).randn([2, 4, 8, 8]).data);
    const eps = await sd.unet(latents, 981, emb);
    expect(eps.dims).toEqual([2, 4, 8, 8]);
    expect(eps.data.every(Number.isFinite)).toBe(true);
  });

  it('toy-flan-t5: sampled captions name the concept; toy-blip names the object colour', async () => {
    const t5 = await manager.loadT5('toy-flan-t5');
    const captions = await t5.generate(
      'Provide a caption for images containing a red apple. The captions should be in English and should be no longer than 150 characters.',
      { doSample: true, numReturnSequences: 16, seed: 3 },
    );
    expect(captions).toHaveLength(16);
    for (const c of captions) expect(c).toMatch(/red apple/);

    const blip = await manager.loadBlip('toy-blip');
    const scene = generateScene({ object: 'red', background: 'blue', width: 96, height: 96, seed: 4 });
    const caption = await blip.caption({ width: 96, height: 96, data: sceneToUint8(scene) });
    expect(caption).toMatch(/^a photograph of a red \w+ on a blue background$/);
  });
});
