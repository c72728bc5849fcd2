import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { InputsFolderKey, SeededRng, ServiceRegistry } from '@diffedit/core';
import type { Tensor } from '@diffedit/core';
import { ModelManager, ModelManagerKey } from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';
import type { InvertedLatents } from '@diffedit/nodes';
import { createRuntime } from '@diffedit/runtime';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ANALYTIC, analyticEps, analyticTextFeature, buildAnalyticUnet } from './analytic-unet.js';
import type { AnalyticConstants } from './analytic-unet.js';
import {
  alphasCumprod64,
  forwardTimesteps,
  referenceDenoise,
  referenceInvert,
} from './reference-diffedit.js';
import type { ReferenceConfig } from './reference-diffedit.js';
import { toEdge } from '../nodes/workflow-doc.js';

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

/** No linear prompt term, a strong e²·x one: a spatial mask, and ε non-linear in the prompt. */
const MASK_UNET: AnalyticConstants = { ...ANALYTIC, C: 0, D: 2 };

let manager: ModelManager;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'diffedit-parity-'));
  const models = join(dir, 'models');
  await writeToyPack(models);
  manager = new ModelManager({ modelsDir: models, mode: 'in-process', providers: ['cpu'], logger: () => {} });
  const [, length, width] = (await (await manager.loadDiffusion('toy-sd')).encodePrompt([''])).dims;
  await manager.close();
  writeFileSync(join(models, 'toy-sd', 'unet', 'model.onnx'), buildAnalyticUnet(length, width));
  // a second copy whose UNet is non-linear in the prompt, for the mask (see MASK_UNET)
  cpSync(join(models, 'toy-sd'), join(models, 'mask-sd'), { recursive: true });
  writeFileSync(join(models, 'mask-sd', 'unet', 'model.onnx'), buildAnalyticUnet(length, width, MASK_UNET));
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
  // for the mask: a black square (3×3 latent cells) on white
  const object = Buffer.alloc(SIZE * SIZE * 3, 255);
  for (let y = 24; y < 48; y++) object.fill(0, (y * SIZE + 16) * 3, (y * SIZE + 40) * 3);
  await sharp(object, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(join(dir, 'object.png'));
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
  ].map(toEdge),
};

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
      source: analyticTextFeature(await model.encodePrompt([SOURCE])),
      target: analyticTextFeature(await model.encodePrompt([TARGET])),
      empty: analyticTextFeature(await model.encodePrompt([''])),
    };
    // the prompts really enter the UNet (and differ), so CFG and the prompt choice are part of the comparison
    expect(Math.abs(means.source - means.empty)).toBeGreaterThan(0.1);
    expect(Math.abs(means.target - means.source)).toBeGreaterThan(0.1);
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
    // …even when only the steps before the last are shifted (the UNet couples kept and repainted pixels)
    const shifted = referenceDenoise(
      stored,
      maskData,
      eps,
      cfg,
      (i) => stored[Math.min(i + 1, stored.length - 1)],
    );
    expect(maxAbsDiff(edited.data, shifted)).toBeGreaterThan(100 * Math.max(err, 1e-6));
    // …and so is the guidance: the same loop without CFG ends elsewhere
    const unguided = referenceDenoise(stored, maskData, eps, { ...cfg, guidance: 1 });
    expect(maxAbsDiff(edited.data, unguided)).toBeGreaterThan(100 * Math.max(err, 1e-6));
    // and the mask was used: unmasked cells end on the level-1 inverted latent (P6), masked ones do not
    const plane = maskData.length;
    for (let p = 0; p < plane; p++) {
      const keep = maskData[p] < 0.5;
      const d = Math.abs(edited.data[p] - stored[stored.length - 1][p]);
      if (keep) expect(d).toBeLessThan(1e-6);
    }
  });

  it('GenerateMask matches spec §5 (diffusers batch order, shared noise, clamp and threshold)', async () => {
    const services = new ServiceRegistry()
      .set(InputsFolderKey, { root: dir, resolve: (p: string) => resolve(dir, p) })
      .set(ModelManagerKey, manager);
    const runtime = createRuntime({ services, inputsDir: dir, modelsDir: join(dir, 'models') });
    const n = 3;
    const seed = 7;
    const settings = {
      num_maps_per_mask: n,
      num_inference_steps: STEPS,
      mask_encode_strength: 0.3,
      seed,
      max_batch: 5,
    };
    const maskWorkflow = {
      format: 'diffedit-studio.workflow',
      version: 1,
      name: 'mask parity',
      nodes: [
        { id: 'model', type: 'LoadDiffusionModel', params: { model: 'mask-sd' } },
        { id: 'image', type: 'LoadImage', params: { image: 'object.png' } },
        { id: 'source', type: 'Text', params: { text: SOURCE } },
        { id: 'target', type: 'Text', params: { text: TARGET } },
        { id: 'source_negative', type: 'Text', params: { text: 'a black circle' } },
        { id: 'mask', type: 'GenerateMask', params: settings },
        { id: 'show', type: 'MaskToImage', params: {} },
        { id: 'save', type: 'PreviewImage', params: {} },
      ],
      edges: [
        ['model', 'model', 'mask', 'model'],
        ['image', 'image', 'mask', 'image'],
        ['source', 'text', 'mask', 'source'],
        ['target', 'text', 'mask', 'target'],
        ['source_negative', 'text', 'mask', 'source_negative'],
        ['mask', 'mask', 'show', 'mask'],
        ['show', 'image', 'save', 'image'],
      ].map(toEdge),
    };
    const result = await runtime.run(maskWorkflow);
    expect(result.status, JSON.stringify(result.error)).toBe('done');
    const mask = result.outputs.mask.mask as Tensor;
    const image = result.outputs.image.image as Tensor;

    const model = await manager.loadDiffusion('mask-sd');
    const encoding = await model.vaeEncode(
      new (image.constructor as typeof Tensor)(
        image.dims,
        image.data.map((v) => v * 2 - 1),
      ),
    );
    if (encoding.kind !== 'parameters') throw new Error('toy VAE exports latent_parameters');
    const feature = async (text: string) => analyticTextFeature(await model.encodePrompt([text]));
    const e = {
      source: await feature(SOURCE),
      sourceNegative: await feature('a black circle'),
      target: await feature(TARGET),
      targetNegative: await feature(''),
    };
    // the documented random streams of GenerateMask: fork 'posterior' for the n samples, fork 'noise' for ε
    const rng = new SeededRng(seed);
    const posterior = rng.fork('posterior');
    const per = encoding.mean.size;
    const samples = Array.from({ length: n }, () =>
      Float64Array.from(
        encoding.mean.data,
        (m, i) => (m + Math.exp(0.5 * encoding.logvar.data[i]) * posterior.normal()) * model.scalingFactor,
      ),
    );
    const noise = rng.fork('noise').randn([n, 4, SIZE / 8, SIZE / 8]);
    const alphas = alphasCumprod64();
    const tEnc = forwardTimesteps({
      steps: STEPS,
      strength: 0.3,
      guidance: 7.5,
      clipSample: true,
      alphas,
    })[0];
    expect(tEnc).toBe(201);
    const a = alphas[tEnc];
    const reference = (order: 'diffusers' | 'intended') => {
      const plane = per / 4;
      const map = new Float64Array(plane);
      samples.forEach((x0, k) => {
        const xt = x0.map((v, i) => Math.sqrt(a) * v + Math.sqrt(1 - a) * noise.data[k * per + i]);
        const o = (text: number) => analyticEps(xt, tEnc, text, MASK_UNET);
        // diffusers: [pos_src, neg_src, pos_tgt, neg_tgt] with the first of each pair as "unconditional"
        const [u1, c1, u2, c2] =
          order === 'diffusers'
            ? [o(e.source), o(e.sourceNegative), o(e.target), o(e.targetNegative)]
            : [o(e.sourceNegative), o(e.source), o(e.targetNegative), o(e.target)];
        for (let i = 0; i < per; i++) {
          const S = u1[i] + 7.5 * (c1[i] - u1[i]);
          const Tg = u2[i] + 7.5 * (c2[i] - u2[i]);
          map[i % plane] += Math.abs(Tg - S) / (n * 4);
        }
      });
      const M = (map.reduce((x, y) => x + y, 0) / plane) * 3;
      return Array.from(map, (v) => (Math.min(Math.max(v, 0), M) / M <= 0.5 ? 0 : 1));
    };
    const faithful = reference('diffusers');
    expect(Array.from(mask.data)).toEqual(faithful);
    expect(faithful.some((v) => v === 1) && faithful.some((v) => v === 0)).toBe(true);
    // the scene tells the two batch orders apart (with equal negatives they would give the same mask)
    const intended = reference('intended');
    expect(intended).not.toEqual(faithful);
  });
});
