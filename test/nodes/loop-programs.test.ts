import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  batchView,
  byteSizeOf,
  classifierFreeGuidance,
  DDIMInverseScheduler,
  DDIMScheduler,
  diffEditBlend,
  diffEditMaskFromUnetOutput,
  diffEditSchedulerConfig,
  duplicateForGuidance,
  getInverseTimesteps,
  guidanceEmbeddings,
  imageToModelRange,
  maskedDenoisePlan,
  maskEncodeTimestep,
  sampleVaePosterior,
  SeededRng,
  Tensor,
} from '@diffedit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  closeModelWorkers,
  DDIMInvertNode,
  GenerateMaskNode,
  INVERT_PROGRAM,
  MaskedDenoiseNode,
  ModelManager,
} from '@diffedit/nodes';
import type { DiffusionModel, InvertedLatents, SessionRunObserver, VaeEncoding } from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';
import { paramsOf, recordingContext } from './node-context.js';

/**
 * The sampling loops run as programs next to the UNet (in the model worker, or on this thread in-process).
 * Their results must be the very bits the per-call loops gave: those loops are kept here as the reference,
 * written with DiffusionModel.unet (one request per UNet call) and core's maths, as the nodes had them.
 */
let modelsDir: string;
const managers: Record<'in-process' | 'worker', ModelManager> = {} as Record<
  'in-process' | 'worker',
  ModelManager
>;
const image = new Tensor([1, 3, 64, 64]);
const SOURCE = 'a red apple';
const TARGET = 'a green pear';

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-programs-'));
  await writeToyPack(modelsDir);
  for (const mode of ['in-process', 'worker'] as const) {
    managers[mode] = new ModelManager({ modelsDir, mode, providers: ['cpu'], logger: () => {} });
  }
  const plane = 64 * 64;
  for (let i = 0; i < plane; i++) {
    const [x, y] = [i % 64, Math.floor(i / 64)];
    const inside = x >= 16 && x < 48 && y >= 16 && y < 48;
    image.data[i] = inside ? 1 : 0.2;
    image.data[plane + i] = (x + y) / 128;
    image.data[2 * plane + i] = inside ? 0 : 1;
  }
});
afterAll(async () => {
  await Promise.all(Object.values(managers).map((m) => m.close()));
  rmSync(modelsDir, { recursive: true, force: true });
});

async function posterior(model: DiffusionModel, count: number, rng: SeededRng): Promise<Tensor> {
  const encoding: VaeEncoding = await model.vaeEncode(imageToModelRange(image));
  if (encoding.kind !== 'parameters') throw new Error('the toy pack encodes posterior parameters');
  const [, c, h, w] = encoding.mean.dims;
  const parameters = new Tensor([1, 2 * c, h, w]);
  parameters.data.set(encoding.mean.data);
  parameters.data.set(encoding.logvar.data, encoding.mean.size);
  const out = new Tensor([count, c, h, w]);
  for (let i = 0; i < count; i++) sampleVaePosterior(parameters, rng, model.scalingFactor, batchView(out, i));
  return out;
}

/**
 * GenerateMask as one request per UNet call (n maps, each half of the batch — source rows, target rows — in
 * chunks of `chunk` rows).
 */
async function referenceMask(
  model: DiffusionModel,
  n: number,
  steps: number,
  chunk: number,
  target = TARGET,
): Promise<Tensor> {
  const g = 7.5;
  const scheduler = new DDIMScheduler(diffEditSchedulerConfig(model.schedulerConfig).config);
  scheduler.setTimesteps(steps);
  const tEnc = maskEncodeTimestep(scheduler, 0.5);
  const [src, uncond, tgt] = [
    await model.encodePrompt([SOURCE]),
    await model.encodePrompt(['']),
    await model.encodePrompt([target]),
  ];
  const groups = [src, uncond, tgt, uncond];
  const rng = new SeededRng(0);
  const x0 = await posterior(model, n, rng.fork('posterior'));
  const noise = rng.fork('noise').randn(x0.dims);
  const xt = scheduler.addNoise(x0, noise, tEnc, noise);
  const rows = groups.length * n;
  const latentRow = xt.size / n;
  let out: Tensor | undefined;
  const half = rows / 2;
  const ranges: [number, number][] = [];
  for (const start of [0, half])
    for (let a = start; a < start + half; a += chunk) ranges.push([a, Math.min(start + half, a + chunk)]);
  for (const [a, b] of ranges) {
    const latents = new Tensor([b - a, ...xt.dims.slice(1)]);
    const embeddings = new Tensor([b - a, ...src.dims.slice(1)]);
    for (let r = a; r < b; r++) {
      latents.data.set(xt.data.subarray((r % n) * latentRow, ((r % n) + 1) * latentRow), (r - a) * latentRow);
      embeddings.data.set(groups[Math.floor(r / n)].data, (r - a) * src.size);
    }
    const pred = await model.unet(latents, tEnc, embeddings);
    out ??= new Tensor([rows, ...pred.dims.slice(1)]);
    out.data.set(pred.data, a * (out.size / rows));
  }
  const { mask } = diffEditMaskFromUnetOutput(out!, g, {
    batchSize: 1,
    numMapsPerMask: n,
    maskThresholdingRatio: 3,
  });
  return mask.reshape([1, 1, mask.dims[1], mask.dims[2]]);
}

/** DDIMInvert then MaskedDenoise (CFG 7.5, strength 0.8) as one request per UNet call. */
async function referenceEdit(
  model: DiffusionModel,
  steps: number,
  mask: Tensor,
): Promise<{ inverted: Tensor; edited: Tensor }> {
  const g = 7.5;
  const config = diffEditSchedulerConfig(model.schedulerConfig).config;
  const inverse = new DDIMInverseScheduler(config);
  inverse.setTimesteps(steps);
  const { timesteps } = getInverseTimesteps(inverse, 0.8);
  const uncond = await model.encodePrompt(['']);
  const guided = async (x: Tensor, t: number, embeddings: Tensor): Promise<Tensor> =>
    classifierFreeGuidance(await model.unet(duplicateForGuidance(x), t, embeddings), g);
  let embeddings = guidanceEmbeddings(uncond, await model.encodePrompt([SOURCE]));
  let x = await posterior(model, 1, new SeededRng(0).fork('posterior'));
  const levels: Tensor[] = [];
  for (const t of timesteps) {
    x = inverse.step(await guided(x, t, embeddings), t, x).prevSample;
    levels.push(x);
  }
  const [, c, h, w] = x.dims;
  const inverted = new Tensor([1, levels.length, c, h, w]);
  levels.reverse().forEach((level, i) => inverted.data.set(level.data, i * level.size));

  const scheduler = new DDIMScheduler(config);
  scheduler.setTimesteps(steps);
  const plan = maskedDenoisePlan(scheduler, 0.8, levels.length);
  embeddings = guidanceEmbeddings(uncond, await model.encodePrompt([TARGET]));
  let edited = levels[0].clone();
  for (const step of plan) {
    edited = scheduler.step(
      await guided(edited, step.timestep, embeddings),
      step.timestep,
      edited,
    ).prevSample;
    edited = diffEditBlend(edited, mask, levels[step.latentIndex]);
  }
  return { inverted, edited };
}

describe.each(['in-process', 'worker'] as const)('the DiffEdit loops as programs (%s)', (mode) => {
  it('give the per-call loops’ bits: mask, every inverted level, the edited latent', async () => {
    const model = await managers[mode].loadDiffusion('toy-sd');
    const { ctx, progress } = recordingContext();
    const before = model.calls.unet;
    // 4 groups × 3 maps, each half (6 rows) in chunks of 5 rows: 4 calls
    const maskParams = paramsOf(GenerateMaskNode, {
      num_maps_per_mask: 3,
      max_batch: 5,
      num_inference_steps: 10,
    });
    const { mask: maskValue } = await GenerateMaskNode.run(
      ctx,
      { model, image, source: SOURCE, target: TARGET },
      maskParams,
    );
    expect(model.calls.unet - before).toBe(4);
    expect(progress.map((p) => `${p.step}/${p.total}`)).toEqual(['1/4', '2/4', '3/4', '4/4']);
    const mask = maskValue as Tensor;
    const expectedMask = await referenceMask(model, 3, 10, 5);
    expect(mask.dims).toEqual(expectedMask.dims);
    expect(mask.data).toEqual(expectedMask.data);

    const invertParams = paramsOf(DDIMInvertNode, { num_inference_steps: 10 });
    const { inverted } = await DDIMInvertNode.run(ctx, { model, image, prompt: SOURCE }, invertParams);
    const half = Tensor.zeros([1, 1, 8, 8]);
    for (let i = 0; i < 32; i++) half.data[i] = 1;
    const { latents } = await MaskedDenoiseNode.run(
      ctx,
      { model, inverted, mask: half, prompt: TARGET },
      paramsOf(MaskedDenoiseNode, {}),
    );
    const reference = await referenceEdit(model, 10, half);
    const levels = (inverted as InvertedLatents).latents;
    expect(levels.dims).toEqual(reference.inverted.dims);
    expect(levels.data).toEqual(reference.inverted.data);
    expect((latents as Tensor).data).toEqual(reference.edited.data);
    // previews: the last step of each loop always has one, as a PNG
    const previews = progress.filter((p) => p.preview !== undefined);
    expect(previews.length).toBeGreaterThanOrEqual(2);
    expect(previews.every((p) => p.preview!.mime === 'image/png')).toBe(true);
  });

  it('GenerateMask reuses the source half when only the target changes, with the same bits', async () => {
    const model = await managers[mode].loadDiffusion('toy-sd');
    // 4 groups × 4 maps: each half (8 rows) in one call
    const params = (seed: number) =>
      paramsOf(GenerateMaskNode, { num_maps_per_mask: 4, max_batch: 8, num_inference_steps: 10, seed });
    const run = async (source: string, target: string, seed = 0) => {
      const { ctx, progress } = recordingContext();
      const before = model.calls.unet;
      const { mask } = await GenerateMaskNode.run(ctx, { model, image, source, target }, params(seed));
      return { mask: mask as Tensor, calls: model.calls.unet - before, steps: progress.map((p) => p.total) };
    };
    const first = await run(SOURCE, TARGET);
    expect(first.calls).toBe(2);
    expect(first.mask.data).toEqual((await referenceMask(model, 4, 10, 8)).data);
    // only the target changed: the target half alone, and the mask both halves computed afresh give
    const other = 'a blue plum';
    const second = await run(SOURCE, other);
    expect(second.calls).toBe(1);
    expect(second.steps).toEqual([1]);
    expect(second.mask.data).toEqual((await referenceMask(model, 4, 10, 8, other)).data);
    // the source or the seed changed: both halves again
    expect((await run('a red plum', other)).calls).toBe(2);
    expect((await run('a red plum', other, 1)).calls).toBe(2);
    expect((await run('a red plum', TARGET, 1)).calls).toBe(1);
  });

  it('hand the inverted latents to MaskedDenoise as they are: same bits as a copy, left unchanged', async () => {
    const model = await managers[mode].loadDiffusion('toy-sd');
    const { ctx } = recordingContext();
    const invertParams = paramsOf(DDIMInvertNode, { num_inference_steps: 10, previews: false });
    const { inverted } = await DDIMInvertNode.run(ctx, { model, image, prompt: SOURCE }, invertParams);
    const shared = inverted as InvertedLatents;
    // across threads the result lives in shared memory (no copy either way); on this thread a plain array
    const sharedMemory = shared.latents.data.buffer instanceof SharedArrayBuffer;
    expect(sharedMemory).toBe(mode === 'worker');
    const before = shared.latents.data.slice();
    // the path it replaces: a private copy of the latents, copied to the worker with the request
    const copied: InvertedLatents = {
      ...shared,
      latents: new Tensor(shared.latents.dims, shared.latents.data.slice()),
    };
    const half = Tensor.zeros([1, 1, 8, 8]);
    for (let i = 0; i < 32; i++) half.data[i] = 1;
    const denoise = async (value: InvertedLatents): Promise<Tensor> =>
      (
        await MaskedDenoiseNode.run(
          ctx,
          { model, inverted: value, mask: half, prompt: TARGET },
          paramsOf(MaskedDenoiseNode, { previews: false }),
        )
      ).latents as Tensor;
    const [fromShared, fromCopy] = [await denoise(shared), await denoise(copied)];
    expect(fromShared.data.buffer instanceof SharedArrayBuffer).toBe(false);
    expect(fromShared.data).toEqual(fromCopy.data);
    expect(fromShared.data).toEqual((await referenceEdit(model, 10, half)).edited.data);
    // a cached output stays as it was (the program reads it only) and counts as much as a plain copy
    expect(shared.latents.data).toEqual(before);
    expect(byteSizeOf(shared.latents)).toBe(byteSizeOf(copied.latents));
  });

  it('name the model and file when a UNet call inside the loop fails', async () => {
    const model = await managers[mode].loadDiffusion('toy-sd');
    const embeddings = guidanceEmbeddings(await model.encodePrompt(['']), await model.encodePrompt([SOURCE]));
    const config = diffEditSchedulerConfig(model.schedulerConfig).config;
    const run = model.runUnetProgram(INVERT_PROGRAM, {
      input: {
        unet: { io: model.unetIo, maxBatch: model.maxBatch },
        config,
        numInferenceSteps: 10,
        timesteps: [1, 101],
        guidanceScale: 7.5,
        embeddings: { dims: embeddings.dims, data: embeddings.data },
        // three channels: the toy UNet takes four
        latent: { kind: 'latents', latents: { dims: [1, 3, 8, 8], data: new Float32Array(3 * 64) } },
      },
    });
    await expect(run).rejects.toMatchObject({
      name: 'ModelError',
      code: 'model_run_failed',
      folder: model.folder,
      file: 'unet/model.onnx',
    });
  });
});

describe('a loop running in the model worker', () => {
  // 1000 steps × strength 0.8: 800 UNet calls, far more than can run before the first progress event is handled
  const LONG = { num_inference_steps: 1000, previews: false };

  async function interrupted(
    stop: (manager: ModelManager, model: DiffusionModel) => Promise<unknown>,
  ): Promise<{ error: unknown; steps: number }> {
    const manager = new ModelManager({ modelsDir, mode: 'worker', providers: ['cpu'], logger: () => {} });
    try {
      const model = await manager.loadDiffusion('toy-sd');
      const { ctx: recording, progress } = recordingContext();
      let stopping: Promise<unknown> | undefined;
      const ctx = {
        ...recording,
        progress: (step: number, total: number) => {
          recording.progress(step, total);
          stopping ??= stop(manager, model);
        },
      };
      const error = await DDIMInvertNode.run(
        ctx,
        { model, image, prompt: SOURCE },
        paramsOf(DDIMInvertNode, LONG),
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      await stopping;
      return { error, steps: progress.length };
    } finally {
      await manager.close();
    }
  }

  it('stops at its next step when the model workers close (a second Ctrl-C), and closing returns', async () => {
    const { error, steps } = await interrupted(() => closeModelWorkers());
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(steps).toBeLessThan(800);
  });

  it('fails as a run on a released session would when its model is released', async () => {
    const { error, steps } = await interrupted((manager) => manager.release('toy-sd'));
    expect(error).toMatchObject({ name: 'ModelError', code: 'model_released' });
    expect(steps).toBeLessThan(800);
  });
});

describe('observers see the calls made inside a program', () => {
  it('every UNet call with its time, and its feeds while the observer asks for them', async () => {
    let wantFeeds = true;
    const seen: { path: string; sample?: readonly number[]; ms?: number }[] = [];
    const observer: SessionRunObserver = {
      wantsFeeds: () => wantFeeds,
      beforeRun: (path, feeds) => void seen.push({ path, sample: feeds.sample?.dims }),
      afterRun: (path, ms) => void seen.push({ path, ms }),
    };
    const manager = new ModelManager({
      modelsDir,
      mode: 'worker',
      providers: ['cpu'],
      logger: () => {},
      observer,
    });
    try {
      const model = await manager.loadDiffusion('toy-sd');
      const { ctx } = recordingContext();
      const params = paramsOf(DDIMInvertNode, { num_inference_steps: 10, previews: false });
      const unet = (): typeof seen => seen.filter((s) => s.path.endsWith(join('unet', 'model.onnx')));
      await DDIMInvertNode.run(ctx, { model, image, prompt: SOURCE }, params);
      // 8 steps (strength 0.8 of 10): a recorded feed then a time for each
      expect(unet().map((s) => (s.sample === undefined ? 'ms' : `feed ${s.sample.join('×')}`))).toEqual(
        Array.from({ length: 8 }, () => ['feed 2×4×8×8', 'ms']).flat(),
      );
      expect(unet().every((s) => s.sample !== undefined || (s.ms ?? -1) >= 0)).toBe(true);
      seen.length = 0;
      wantFeeds = false;
      await DDIMInvertNode.run(ctx, { model, image, prompt: `${SOURCE} again` }, params);
      expect(unet().map((s) => (s.sample === undefined ? 'ms' : 'feed'))).toEqual(Array(8).fill('ms'));
    } finally {
      await manager.close();
    }
  });
});
