import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { InputsFolderKey, ServiceRegistry } from '@diffedit/core';
import type { Tensor } from '@diffedit/core';
import { ModelManager, ModelManagerKey, writeToyPack } from '@diffedit/nodes';
import type { InvertedLatents } from '@diffedit/nodes';
import { createRuntime } from '@diffedit/runtime';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { analyticEps, buildAnalyticUnet } from './analytic-unet.js';
import {
  alphasCumprod64,
  forwardTimesteps,
  referenceDenoise,
  referenceInvert,
} from './reference-diffedit.js';
import type { ReferenceConfig } from './reference-diffedit.js';

/**
 * Numerical parity of DDIMInvert and MaskedDenoise (run by the executor, UNet in ONNX Runtime, float32) with an
 * independent float64 re-implementation of spec §6/§7, on a model whose UNet is analytic (see analytic-unet.ts)
 * and whose VAE is the toy one (deterministic: log-variance −30).
 */
const SIZE = 64;
const STEPS = 10;
const STRENGTH = 0.8;
const GUIDANCE = 7.5;
const SOURCE = 'a red apple';
const TARGET = 'a green pear';

let manager: ModelManager;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'diffedit-parity-'));
  const models = join(dir, 'models');
  await writeToyPack(models);
  writeFileSync(join(models, 'toy-sd', 'unet', 'model.onnx'), buildAnalyticUnet());
  // a smooth colourful image (values well inside (0,1)) and a latent-size painted mask (left half + a block)
  const rgb = Buffer.alloc(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const p = (y * SIZE + x) * 3;
      rgb[p] = 40 + ((x * 3) % 170);
      rgb[p + 1] = 60 + ((y * 5) % 150);
      rgb[p + 2] = 200 - ((x + y) % 120);
    }
  }
  await sharp(rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(join(dir, 'image.png'));
  const h = SIZE / 8;
  const mask = Buffer.alloc(h * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < h; x++) mask[y * h + x] = x < h / 2 || (y > 5 && x > 5) ? 255 : 0;
  await sharp(mask, { raw: { width: h, height: h, channels: 1 } })
    .png()
    .toFile(join(dir, 'mask.png'));
  manager = new ModelManager({ modelsDir: models, mode: 'in-process', providers: ['cpu'], logger: () => {} });
});
afterAll(() => manager.close());

const workflow = {
  format: 'diffedit-studio.workflow',
  version: 1,
  name: 'parity',
  nodes: [
    { id: 'model', type: 'LoadDiffusionModel', params: { model: 'toy-sd' } },
    { id: 'image', type: 'LoadImage', params: { image: 'image.png' } },
    { id: 'mask', type: 'LoadMask', params: { mask: 'mask.png' } },
    { id: 'source', type: 'Text', params: { text: SOURCE } },
    { id: 'target', type: 'Text', params: { text: TARGET } },
    {
      id: 'invert',
      type: 'DDIMInvert',
      params: {
        num_inference_steps: STEPS,
        inpaint_strength: STRENGTH,
        guidance_scale: GUIDANCE,
        previews: false,
      },
    },
    { id: 'denoise', type: 'MaskedDenoise', params: { guidance_scale: GUIDANCE, previews: false } },
    { id: 'show', type: 'PreviewImage', params: {} },
  ],
  edges: [
    ['model', 'model', 'invert', 'model'],
    ['image', 'image', 'invert', 'image'],
    ['source', 'text', 'invert', 'prompt'],
    ['model', 'model', 'denoise', 'model'],
    ['invert', 'inverted', 'denoise', 'inverted'],
    ['mask', 'mask', 'denoise', 'mask'],
    ['target', 'text', 'denoise', 'prompt'],
    ['source', 'text', 'denoise', 'negative'],
    ['denoise', 'image', 'show', 'image'],
  ].map(([a, ao, b, bi], i) => ({ id: `e${i}`, from: { node: a, output: ao }, to: { node: b, input: bi } })),
};

function meanOf(t: Tensor): number {
  let s = 0;
  for (const v of t.data) s += v;
  return s / t.size;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('DiffEdit loops against a float64 reference (analytic UNet)', () => {
  it('DDIMInvert and MaskedDenoise match spec §6/§7 including the P6 blend index', async () => {
    const services = new ServiceRegistry()
      .set(InputsFolderKey, { root: dir, resolve: (p: string) => resolve(dir, p) })
      .set(ModelManagerKey, manager);
    const runtime = createRuntime({ services, inputsDir: dir, modelsDir: join(dir, 'models') });
    const result = await runtime.run(workflow);
    expect(result.status, JSON.stringify(result.error)).toBe('done');
    const inverted = result.outputs.invert.inverted as InvertedLatents;
    const edited = result.outputs.denoise.latents as Tensor;
    const mask = result.outputs.mask.mask as Tensor;
    const image = result.outputs.image.image as Tensor;

    // reference inputs: the clean latent (toy VAE mean · scaling; std = e^-15 is negligible) and the text means
    const model = await manager.loadDiffusion('toy-sd');
    const encoding = await model.vaeEncode(
      new (image.constructor as typeof Tensor)(
        image.dims,
        image.data.map((v) => v * 2 - 1),
      ),
    );
    if (encoding.kind !== 'parameters') throw new Error('toy VAE exports latent_parameters');
    const x0 = Float64Array.from(encoding.mean.data, (v) => v * model.scalingFactor);
    const means = {
      source: meanOf(await model.encodePrompt([SOURCE])),
      target: meanOf(await model.encodePrompt([TARGET])),
      empty: meanOf(await model.encodePrompt([''])),
    };
    const cfg: ReferenceConfig = {
      steps: STEPS,
      strength: STRENGTH,
      guidance: GUIDANCE,
      clipSample: model.schedulerConfig.clip_sample !== false,
      alphas: alphasCumprod64(),
    };

    // §6: inversion with the source prompt (uncond = "")
    const refLatents = referenceInvert(
      x0,
      (x, t, which) => analyticEps(x, t, which === 'cond' ? means.source : means.empty),
      cfg,
    );
    expect(inverted.timesteps).toEqual(forwardTimesteps(cfg));
    expect(inverted.latents.dims).toEqual([1, refLatents.length, 4, SIZE / 8, SIZE / 8]);
    const got = inverted.latents.data;
    const per = x0.length;
    let invErr = 0;
    refLatents.forEach(
      (ref, s) => (invErr = Math.max(invErr, maxAbsDiff(got.subarray(s * per, (s + 1) * per), ref))),
    );
    expect(invErr).toBeLessThan(1e-5);

    // §7: masked denoise from the PRODUCT's inverted latents, target prompt with the source as negative
    const stored = refLatents.map((_, s) => Float64Array.from(got.subarray(s * per, (s + 1) * per)));
    const maskData = Float64Array.from(mask.data);
    const eps = (x: Float64Array, t: number, which: 'cond' | 'uncond') =>
      analyticEps(x, t, which === 'cond' ? means.target : means.source);
    const refEdited = referenceDenoise(stored, maskData, eps, cfg);
    const err = maxAbsDiff(edited.data, refEdited);
    expect(err).toBeLessThan(1e-5);

    // the comparison is sharp enough to see the P6 index: blending with the latent of the level the step
    // lands on (the paper's choice: stored i + 1, the clean latent at the end) gives a clearly different result
    const wrongBlend = referenceDenoise(stored, maskData, eps, cfg, (i) =>
      i + 1 < stored.length ? stored[i + 1] : x0,
    );
    expect(maxAbsDiff(edited.data, wrongBlend)).toBeGreaterThan(100 * Math.max(err, 1e-6));
    // and the mask was used: unmasked cells end on the level-1 inverted latent (P6), masked ones do not
    const plane = maskData.length;
    for (let p = 0; p < plane; p++) {
      const keep = maskData[p] < 0.5;
      const d = Math.abs(edited.data[p] - stored[stored.length - 1][p]);
      if (keep) expect(d).toBeLessThan(1e-6);
    }
  });
});
