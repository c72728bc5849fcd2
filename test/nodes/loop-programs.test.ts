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
  notedDisplayBytes,
  sampleVaePosterior,
  SeededRng,
  Tensor,
} from '@diffedit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  closeModelWorkers,
  DDIMInvertNode,
  decodeScaledLatents,
  forgetRememberedSourceRows,
  GenerateMaskNode,
  INVERT_PROGRAM,
  MaskedDenoiseNode,
  ModelManager,
  rememberedBytes,
  rememberedRows,
} from '@diffedit/nodes';
import type {
  DiffusionModel,
  InvertedLatents,
  ProgramStats,
  SessionRunObserver,
  VaeEncoding,
} from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';
import { abortingContext, paramsOf, recordingContext } from './node-context.js';

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

async function posterior(
  model: DiffusionModel,
  count: number,
  rng: SeededRng,
  picture: Tensor = image,
): Promise<Tensor> {
  const encoding: VaeEncoding = await model.vaeEncode(imageToModelRange(picture));
  if (encoding.kind !== 'parameters') throw new Error('the toy pack encodes posterior parameters');
  const [, c, h, w] = encoding.mean.dims;
  const parameters = new Tensor([1, 2 * c, h, w]);
  parameters.data.set(encoding.mean.data);
  parameters.data.set(encoding.logvar.data, encoding.mean.size);
  const out = new Tensor([count, c, h, w]);
  for (let i = 0; i < count; i++) sampleVaePosterior(parameters, rng, model.scalingFactor, batchView(out, i));
  return out;
}

/** What a GenerateMask run depends on (the node's params by their names, and its image and prompts). */
interface MaskCase {
  source: string;
  target: string;
  image: Tensor;
  seed: number;
  num_maps_per_mask: number;
  num_inference_steps: number;
  mask_encode_strength: number;
  max_batch: number;
  mask_guidance_scale: number;
  mask_thresholding_ratio: number;
}

const MASK_CASE: MaskCase = {
  source: SOURCE,
  target: TARGET,
  image,
  seed: 0,
  num_maps_per_mask: 3,
  num_inference_steps: 10,
  mask_encode_strength: 0.5,
  max_batch: 5,
  mask_guidance_scale: 7.5,
  mask_thresholding_ratio: 3,
};

/**
 * The UNet calls of a GenerateMask that computes both halves: the source half's 2 × n rows in chunks, then
 * the target's own n rows (its negative is the source's, "": those rows are the source half's).
 */
function fullMaskCalls(c: MaskCase): number {
  return Math.ceil((2 * c.num_maps_per_mask) / c.max_batch) + targetMaskCalls(c);
}

/** The UNet calls of the target's own rows (n, in chunks). */
function targetMaskCalls(c: MaskCase): number {
  return Math.ceil(c.num_maps_per_mask / c.max_batch);
}

/**
 * GenerateMask as one request per UNet call (n maps, the source half of the batch, then the target's own rows,
 * in chunks of `max_batch` rows; the target negative's rows copied from the source negative's, the same
 * "" embedding), or with `twice`, every row computed as diffusers does (the target half in chunks of its own).
 */
async function referenceMask(
  model: DiffusionModel,
  changes: Partial<MaskCase> = {},
  twice = false,
): Promise<Tensor> {
  const c = { ...MASK_CASE, ...changes };
  const [n, chunk] = [c.num_maps_per_mask, c.max_batch];
  const g = c.mask_guidance_scale;
  const scheduler = new DDIMScheduler(diffEditSchedulerConfig(model.schedulerConfig).config);
  scheduler.setTimesteps(c.num_inference_steps);
  const tEnc = maskEncodeTimestep(scheduler, c.mask_encode_strength);
  const [src, uncond, tgt] = [
    await model.encodePrompt([c.source]),
    await model.encodePrompt(['']),
    await model.encodePrompt([c.target]),
  ];
  const groups = [src, uncond, tgt, uncond];
  const rng = new SeededRng(c.seed);
  const x0 = await posterior(model, n, rng.fork('posterior'), c.image);
  const noise = rng.fork('noise').randn(x0.dims);
  const xt = scheduler.addNoise(x0, noise, tEnc, noise);
  const rows = groups.length * n;
  const latentRow = xt.size / n;
  let out: Tensor | undefined;
  const half = rows / 2;
  const ranges: [number, number][] = [];
  for (const [start, end] of [
    [0, half],
    [half, twice ? rows : half + n],
  ])
    for (let a = start; a < end; a += chunk) ranges.push([a, Math.min(end, a + chunk)]);
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
  const rowSize = out!.size / rows;
  if (!twice) out!.data.copyWithin(3 * n * rowSize, n * rowSize, 2 * n * rowSize);
  const { mask } = diffEditMaskFromUnetOutput(out!, g, {
    batchSize: 1,
    numMapsPerMask: n,
    maskThresholdingRatio: c.mask_thresholding_ratio,
  });
  return mask.reshape([1, 1, mask.dims[1], mask.dims[2]]);
}

/**
 * Runs GenerateMask on `c`; with `abortAfter`, the run's signal aborts once the node has reported that many
 * steps (one UNet call each). Returns the mask (or the error) and the UNet calls the run made.
 */
async function runMask(
  model: DiffusionModel,
  c: MaskCase,
  abortAfter?: number,
): Promise<{ mask?: Tensor; error?: unknown; calls: number; steps: number[] }> {
  const { ctx, progress } = abortingContext(abortAfter);
  const { source, target, image: picture, ...params } = c;
  const before = model.calls.unet;
  const outcome = await GenerateMaskNode.run(
    ctx,
    { model, image: picture, source, target },
    paramsOf(GenerateMaskNode, params),
  ).then(
    ({ mask }) => ({ mask: mask as Tensor }),
    (error: unknown) => ({ error }),
  );
  return { ...outcome, calls: model.calls.unet - before, steps: progress.map((p) => p.total) };
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
    // 4 groups × 3 maps: the source half (6 rows) in chunks of 5 rows, the target's own 3 rows: 3 calls
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
    expect(model.calls.unet - before).toBe(3);
    expect(progress.map((p) => `${p.step}/${p.total}`)).toEqual(['1/3', '2/3', '3/3']);
    const mask = maskValue as Tensor;
    const expectedMask = await referenceMask(model);
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
    expect(first.mask.data).toEqual(
      (await referenceMask(model, { num_maps_per_mask: 4, max_batch: 8 })).data,
    );
    // only the target changed: the target half alone, and the mask both halves computed afresh give
    const other = 'a blue plum';
    const second = await run(SOURCE, other);
    expect(second.calls).toBe(1);
    expect(second.steps).toEqual([1]);
    expect(second.mask.data).toEqual(
      (await referenceMask(model, { num_maps_per_mask: 4, max_batch: 8, target: other })).data,
    );
    // the source or the seed changed: both halves again
    expect((await run('a red plum', other)).calls).toBe(2);
    expect((await run('a red plum', other, 1)).calls).toBe(2);
    expect((await run('a red plum', TARGET, 1)).calls).toBe(1);
  });

  it('GenerateMask computes both halves again when anything the source half depends on changes', async () => {
    const model = await managers[mode].loadDiffusion('toy-sd');
    const otherImage = new Tensor(image.dims, image.data.slice());
    for (let i = 0; i < 64 * 16; i++) otherImage.data[i] = 0.6; // the top quarter's red channel
    const changes: [string, Partial<MaskCase>][] = [
      ['source', { source: 'a red plum' }],
      ['seed', { seed: 7 }],
      ['image', { image: otherImage }],
      ['num_maps_per_mask', { num_maps_per_mask: 4 }],
      ['num_inference_steps', { num_inference_steps: 20 }],
      ['mask_encode_strength', { mask_encode_strength: 0.7 }],
      ['max_batch', { max_batch: 4 }],
    ];
    // 4 groups × 3 maps: the source half (6 rows) in calls of 5 rows, the target's own 3 rows in one
    expect(fullMaskCalls(MASK_CASE)).toBe(3);
    for (const [name, change] of changes) {
      // the base case's source half is remembered: a re-run with another target computes the target half only
      expect((await runMask(model, { ...MASK_CASE, target: 'a yellow banana' })).error, name).toBeUndefined();
      const reused = await runMask(model, MASK_CASE);
      expect(reused.calls, name).toBe(targetMaskCalls(MASK_CASE));
      expect(reused.mask!.data, name).toEqual((await referenceMask(model)).data);
      // one more input changed with the target: both halves again, and the fresh bits
      const c = { ...MASK_CASE, target: 'a blue plum', ...change };
      const changed = await runMask(model, c);
      expect(changed.calls, name).toBe(fullMaskCalls(c));
      const expected = await referenceMask(model, c);
      expect(changed.mask!.dims, name).toEqual(expected.dims);
      expect(changed.mask!.data, name).toEqual(expected.data);
    }
  });

  it('GenerateMask reuses the source half when the guidance or the threshold changes too', async () => {
    const model = await managers[mode].loadDiffusion('toy-sd');
    await runMask(model, MASK_CASE);
    for (const change of [
      { mask_guidance_scale: 5 },
      { mask_thresholding_ratio: 2 },
      { target: 'a yellow banana', mask_guidance_scale: 3, mask_thresholding_ratio: 1.5 },
    ]) {
      const c = { ...MASK_CASE, ...change };
      const rerun = await runMask(model, c);
      expect(rerun.calls, JSON.stringify(change)).toBe(targetMaskCalls(c));
      expect(rerun.mask!.data, JSON.stringify(change)).toEqual((await referenceMask(model, c)).data);
    }
  });

  it('GenerateMask takes the target negative’s rows from the source negative’s when the two are the same', async () => {
    const model = await managers[mode].loadDiffusion('toy-sd');
    forgetRememberedSourceRows();
    for (const c of [MASK_CASE, { ...MASK_CASE, num_maps_per_mask: 4, max_batch: 3, seed: 5 }]) {
      // the same mask as computing those rows again (diffusers' batch)
      const { mask, calls } = await runMask(model, c);
      expect(calls).toBe(fullMaskCalls(c));
      expect(mask!.data).toEqual((await referenceMask(model, c, true)).data);
    }
    // a target negative of its own: the target half computed whole (2 × n rows)
    const run = async (inputs: Record<string, string>): Promise<number> => {
      const before = model.calls.unet;
      const { ctx } = recordingContext();
      const { source, target, image: picture, ...params } = MASK_CASE;
      await GenerateMaskNode.run(
        ctx,
        { model, image: picture, source, target, ...inputs },
        paramsOf(GenerateMaskNode, params),
      );
      return model.calls.unet - before;
    };
    forgetRememberedSourceRows();
    const halfCalls = Math.ceil((2 * MASK_CASE.num_maps_per_mask) / MASK_CASE.max_batch);
    expect(await run({ target_negative: 'a blue plum' })).toBe(2 * halfCalls);
    // the same negative on both sides, not "": still the source's rows
    forgetRememberedSourceRows();
    expect(await run({ source_negative: 'a blue plum', target_negative: 'a blue plum' })).toBe(
      fullMaskCalls(MASK_CASE),
    );
    // the target prompt the same as the source (warned): every target row is a source row
    forgetRememberedSourceRows();
    expect(await run({ target: SOURCE })).toBe(halfCalls);
  });

  it('GenerateMask cancelled mid-mask leaves the remembered source half whole', async () => {
    const model = await managers[mode].loadDiffusion('toy-sd');
    // 256 maps in calls of one row: 512 calls for the source half, 256 for the target's own rows, far more
    // than the model worker can make before the first step's event reaches this thread and the cancellation
    // reaches it
    const c = { ...MASK_CASE, num_maps_per_mask: 256, max_batch: 1 };
    const whole = await runMask(model, c);
    expect(whole.calls).toBe(768);
    expect(rememberedBytes(model)).toBeGreaterThan(0);
    // cancelled in the target half of a re-run that is given the remembered source half
    const inTarget = await runMask(model, { ...c, target: 'a yellow banana' }, 1);
    expect(inTarget.error).toMatchObject({ name: 'AbortError' });
    expect(inTarget.calls).toBeGreaterThanOrEqual(1);
    expect(inTarget.calls).toBeLessThan(256);
    // cancelled in the source half of a run with a new source (nothing remembered for it)
    const inSource = await runMask(model, { ...c, source: 'a red plum' }, 1);
    expect(inSource.error).toMatchObject({ name: 'AbortError' });
    expect(inSource.calls).toBeLessThan(512);
    // c's source half is still the one remembered, with its bits: the target half alone, the fresh mask
    const after = await runMask(model, { ...c, target: 'a blue plum' });
    expect(after.calls).toBe(256);
    expect(after.mask!.data).toEqual((await referenceMask(model, { ...c, target: 'a blue plum' })).data);
    // and the cancelled new source is computed whole
    const fresh = await runMask(model, { ...c, source: 'a red plum' });
    expect(fresh.calls).toBe(768);
    expect(fresh.mask!.data).toEqual((await referenceMask(model, { ...c, source: 'a red plum' })).data);
  });

  it('GenerateMask keeps the source half in shared memory across threads, and a re-run leaves it as it was', async () => {
    const model = await managers[mode].loadDiffusion('toy-sd');
    forgetRememberedSourceRows();
    await runMask(model, MASK_CASE);
    const rows = rememberedRows(model) ?? [];
    // 3 maps × 2 groups = 6 rows a half, in calls of 5 rows: two blocks, views of one array
    expect(rows.map((r) => r.dims[0])).toEqual([5, 1]);
    expect(rows[0].data.buffer).toBe(rows[1].data.buffer);
    // handed back to the model worker without a copy; on this thread a plain array
    expect(rows.every((r) => r.data.buffer instanceof SharedArrayBuffer)).toBe(mode === 'worker');
    const before = rows.map((r) => r.data.slice());
    const c = { ...MASK_CASE, target: 'a yellow banana' };
    const rerun = await runMask(model, c);
    expect(rerun.calls).toBe(targetMaskCalls(c));
    expect(rerun.mask!.data).toEqual((await referenceMask(model, c)).data);
    expect(rememberedRows(model)).toBe(rows);
    rows.forEach((r, i) => expect(r.data).toEqual(before[i]));
  });

  it('GenerateMask remembers one source half per model, however many runs', async () => {
    const model = await managers[mode].loadDiffusion('toy-sd');
    const embedding = await model.encodePrompt([SOURCE]);
    // what the entry holds: the posterior's mean and log-variance [1,4,8,8], the source and "" embeddings,
    // and the source half's UNet outputs (2 × n rows of [4,8,8]), all float32
    const bytes = (n: number) => 4 * (2 * 256 + 2 * embedding.size + 2 * n * 256);
    const seen: number[] = [];
    for (const [i, source] of ['a red apple', 'a red plum', 'a green pear', 'a red apple'].entries()) {
      await runMask(model, { ...MASK_CASE, source, target: `a blue plum ${i}`, seed: i });
      seen.push(rememberedBytes(model));
    }
    expect(seen).toEqual(Array(4).fill(bytes(3)));
    await runMask(model, { ...MASK_CASE, num_maps_per_mask: 1 });
    expect(rememberedBytes(model)).toBe(bytes(1));
    // forgetting (a benchmark's cold run) drops it: the next run computes both halves
    forgetRememberedSourceRows();
    expect(rememberedBytes(model)).toBe(0);
    expect((await runMask(model, { ...MASK_CASE, num_maps_per_mask: 1 })).calls).toBe(
      fullMaskCalls({ ...MASK_CASE, num_maps_per_mask: 1 }),
    );
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

  it('give the same bits on feeds prepared once as on feeds converted every call (max batch 1)', async () => {
    // one call of [x; x] a step runs on feeds prepared once per timestep; max batch 1 splits it into two
    // calls on wire feeds made every call: the per-call path the prepared one must agree with
    const model = await managers[mode].loadDiffusion('toy-sd');
    const embeddings = guidanceEmbeddings(await model.encodePrompt(['']), await model.encodePrompt([SOURCE]));
    const config = diffEditSchedulerConfig(model.schedulerConfig).config;
    const latent = new Float32Array(4 * 64).map((_, i) => Math.sin(i) / 2);
    const invert = async (maxBatch: number | undefined): Promise<{ levels: Float32Array; calls: number }> => {
      const before = model.calls.unet;
      const levels = await model.runUnetProgram(INVERT_PROGRAM, {
        input: {
          unet: { io: model.unetIo, maxBatch },
          config,
          numInferenceSteps: 10,
          timesteps: [1, 101, 201, 301],
          guidanceScale: 7.5,
          embeddings: { dims: embeddings.dims, data: embeddings.data },
          latent: { kind: 'latents', latents: { dims: [1, 4, 8, 8], data: latent.slice() } },
        },
      });
      return { levels, calls: model.calls.unet - before };
    };
    const prepared = await invert(undefined);
    const perCall = await invert(1);
    expect([prepared.calls, perCall.calls]).toEqual([4, 8]);
    expect(prepared.levels).toEqual(perCall.levels);
    // and they are a real inversion: the levels move from step to step
    expect(prepared.levels.subarray(0, 256)).not.toEqual(prepared.levels.subarray(3 * 256));
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
  /** Runs `body` with DDIMInvert (10 steps, no previews) on toy-sd in a worker-mode manager that `observer` watches. */
  async function withObservedInvert(
    observer: SessionRunObserver,
    body: (invert: (prompt: string) => Promise<void>) => Promise<void>,
  ): Promise<void> {
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
      await body(async (prompt) => void (await DDIMInvertNode.run(ctx, { model, image, prompt }, params)));
    } finally {
      await manager.close();
    }
  }
  const isUnet = (path: string): boolean => path.endsWith(join('unet', 'model.onnx'));

  it('every UNet call with its time, and its feeds while the observer asks for them', async () => {
    let wantFeeds = true;
    const seen: { path: string; sample?: readonly number[]; ms?: number }[] = [];
    const samples: number[][] = [];
    const observer: SessionRunObserver = {
      wantsFeeds: () => wantFeeds,
      beforeRun: (path, feeds) => {
        seen.push({ path, sample: feeds.sample?.dims });
        if (isUnet(path)) samples.push(Array.from(feeds.sample.data as Float32Array));
      },
      afterRun: (path, ms) => void seen.push({ path, ms }),
    };
    await withObservedInvert(observer, async (invert) => {
      const unet = (): typeof seen => seen.filter((s) => isUnet(s.path));
      await invert(SOURCE);
      // 8 steps (strength 0.8 of 10): a recorded feed then a time for each
      expect(unet().map((s) => (s.sample === undefined ? 'ms' : `feed ${s.sample.join('×')}`))).toEqual(
        Array.from({ length: 8 }, () => ['feed 2×4×8×8', 'ms']).flat(),
      );
      expect(unet().every((s) => s.sample !== undefined || (s.ms ?? -1) >= 0)).toBe(true);
      // each a copy of what that call read: the loop refills one input buffer in place
      expect(samples[1]).not.toEqual(samples[0]);
      seen.length = 0;
      wantFeeds = false;
      await invert(`${SOURCE} again`);
      expect(unet().map((s) => (s.sample === undefined ? 'ms' : 'feed'))).toEqual(Array(8).fill('ms'));
    });
  });

  it('what a program cost its thread, told to an observer that asks', async () => {
    const stats: ProgramStats[] = [];
    const observer: SessionRunObserver = {
      afterProgram: (path, s) => void (isUnet(path) && stats.push(s)),
    };
    await withObservedInvert(observer, async (invert) => {
      await invert(SOURCE);
      await invert(`${SOURCE} again`);
    });
    // one program each run, its wall and (Linux has the thread's CPU in /proc) its thread's CPU
    expect(stats.map((s) => s.name)).toEqual(['diffedit-invert', 'diffedit-invert']);
    for (const s of stats) {
      expect(s.wallMs).toBeGreaterThan(0);
      if (process.platform === 'linux') expect(s.threadCpuMs).toBeGreaterThanOrEqual(0);
    }
  });
});

describe.each(['in-process', 'worker'] as const)('MaskedDenoise (%s)', (mode) => {
  it('runs its loop and the decode of its latent as one program: the same image, the calls counted and observed', async () => {
    const programs: string[] = [];
    const calls: string[] = [];
    const observer: SessionRunObserver = {
      afterRun: (path) => void calls.push(path.split(/[\\/]/).at(-2) ?? path),
      afterProgram: (_path, stats) => void programs.push(stats.name),
    };
    const manager = new ModelManager({ modelsDir, mode, providers: ['cpu'], logger: () => {}, observer });
    try {
      const model = await manager.loadDiffusion('toy-sd');
      const { ctx } = recordingContext();
      const { inverted } = await DDIMInvertNode.run(
        ctx,
        { model, image, prompt: SOURCE },
        paramsOf(DDIMInvertNode, { num_inference_steps: 10, previews: false }),
      );
      const half = Tensor.zeros([1, 1, 8, 8]);
      for (let i = 0; i < 32; i++) half.data[i] = 1;
      programs.length = 0;
      calls.length = 0;
      const before = { ...model.calls };
      const { latents, image: edited } = (await MaskedDenoiseNode.run(
        ctx,
        { model, inverted, mask: half, prompt: TARGET },
        paramsOf(MaskedDenoiseNode, { previews: false }),
      )) as { latents: Tensor; image: Tensor };
      // the target's encoding, 8 guided UNet calls (strength 0.8 of 10 steps), then one decode, in that order
      expect(calls).toEqual(['text_encoder', ...Array<string>(8).fill('unet'), 'vae_decoder']);
      expect(model.calls.unet - before.unet).toBe(8);
      expect(model.calls.vaeDecoder - before.vaeDecoder).toBe(1);
      // one request where the sessions can tell (the thread's CPU from /proc, on Linux)
      if (process.platform === 'linux') expect(programs).toEqual(['diffedit-denoise-decode']);
      // the image is the decode of the latent, as a separate decode gives it, display bytes included
      expect((await referenceEdit(model, 10, half)).edited.data).toEqual(latents.data);
      const separate = await decodeScaledLatents(model, latents);
      expect(edited.dims).toEqual([1, 3, 64, 64]);
      expect(sameBits(edited.data, separate.data)).toBe(true);
      expect(notedDisplayBytes(edited.data)).toEqual(notedDisplayBytes(separate.data));
      expect(notedDisplayBytes(edited.data)).toBeDefined();
    } finally {
      await manager.close();
    }
  });
});

/** Bitwise equality of two float arrays (NaN and -0 included). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return a.length === b.length && x.every((v, i) => v === y[i]);
}
