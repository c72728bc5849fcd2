// The DiffEdit sampling loops as programs (see models/program.ts): each runs next to the UNet session, in the
// model worker or on the main thread in-process, so a whole loop is one request with no round trip per UNet
// call. This is the only implementation of the three loops; the nodes prepare inputs and read the results.
// Imported by the model worker too: nothing here may import Node-only or heavy modules (no sharp, tokenizers).
import {
  batchView,
  classifierFreeGuidance,
  DDIMInverseScheduler,
  DDIMScheduler,
  diffEditBlend,
  diffEditMaskFromUnetRowBlocks,
  duplicateForGuidance,
  guidedEpsilonStep,
  guidedEpsilonStepBlend,
  regulariseNoisePredictionAsync,
  sampleVaePosteriorDraws,
  SeededRng,
  Tensor,
  usesClassifierFreeGuidance,
} from '@diffedit/core';
import type {
  EpsilonStepCoefficients,
  MaskedDenoiseStep,
  ResolvedSchedulerConfig,
  Seed,
} from '@diffedit/core';

import { rowsPerCall } from '../../models/batching.js';
import { defineProgram } from '../../models/program.js';
import type { PreparedFeeds, PreparedOutput, ProgramContext } from '../../models/program.js';
import { programUnet, UnetFeedCache } from '../../models/unet-call.js';
import { ownedBuffers } from '../../models/worker-protocol.js';
import { sameBits } from './mask-source-memo.js';
import type { UnetIo } from '../../models/unet-call.js';
import { StepReporter } from './step-reporter.js';
import type { PreviewSettings, StepEvent } from './step-reporter.js';

/**
 * This module as the model worker imports it: its compiled file in the package's dist/ (from the sources under
 * vitest too; src/ and dist/ sit at the same depth, see worker-location.ts).
 */
const MODULE = new URL('../../../dist/nodes/diffedit/loop-programs.js', import.meta.url).href;

/** A tensor as it crosses to a program: dims and float32 values. */
export interface TensorData {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

const tensorOf = (t: TensorData): Tensor => new Tensor(t.dims, t.data);

/**
 * The image latents a loop starts from: given, or drawn here from the VAE posterior (diffusers'
 * prepare_image_latents, spec §4: `count` samples of one encoding, sample by sample, from the node's
 * 'posterior' stream), which keeps the seeded normals off the caller's thread.
 */
export type LatentSource =
  | { readonly kind: 'latents'; readonly latents: TensorData }
  | {
      readonly kind: 'posterior';
      readonly mean: TensorData;
      readonly logvar: TensorData;
      readonly scalingFactor: number;
      readonly count: number;
      readonly seed: Seed;
    };

function startLatents(source: LatentSource): Tensor {
  if (source.kind === 'latents') return tensorOf(source.latents);
  const mean = tensorOf(source.mean);
  const [, c, h, w] = mean.dims;
  // sample by sample into the rows of one tensor (sampleVaePosterior's draws, std computed once)
  const rng = new SeededRng(source.seed).fork('posterior');
  const out = new Tensor([source.count, c, h, w]);
  return sampleVaePosteriorDraws(mean, tensorOf(source.logvar), rng, source.scalingFactor, out);
}

/** DiffEdit's background blend after a step: out = out·mask + background·(1 − mask). */
interface Blend {
  readonly mask: Tensor;
  readonly background: Tensor;
}

/**
 * One step of a loop's planned path (GuidedUnet.planSteps), made before the loop: the UNet call's feeds, the
 * scheduler's single-pass coefficients, where the step writes, and the background blend after it.
 */
interface PlannedStep {
  readonly timestep: number;
  readonly feeds: PreparedFeeds;
  readonly coefficients: EpsilonStepCoefficients;
  readonly out: Tensor;
  readonly blend?: Blend;
}

/** Whether a UNet output is the [u; c] pair of `x`'s rows, which the fused step takes. */
const isGuidedPair = (raw: PreparedOutput, x: Tensor): boolean =>
  raw.data.length === 2 * x.size && raw.dims[0] === 2 * x.dims[0];

/** A UNet call's output as a Tensor (the per-call path gives one already; prepared calls give dims and data). */
const asTensor = (out: PreparedOutput): Tensor =>
  out instanceof Tensor ? out : new Tensor(out.dims, out.data);

/** What every loop needs to call the UNet the way DiffusionModel.unet does. */
export interface UnetSetup {
  readonly io: UnetIo;
  readonly maxBatch: number | undefined;
}

/**
 * The guided noise predictions of one loop: ε_u + g·(ε_c − ε_u) from one UNet call on `[x; x]` with CFG, the
 * plain prediction without. The UNet input and the guided result live in buffers reused every step (valid
 * until the next predict).
 */
class GuidedUnet {
  readonly cfg: boolean;
  private input: Tensor | undefined;
  private guided: Tensor | undefined;
  /** the embeddings' and the input buffer's wire tensors, and one per timestep, made once for the loop */
  private readonly feeds: UnetFeedCache;
  /** the [x; x] buffer's calls' feeds by timestep, prepared once (see callsOnPreparedFeeds) */
  private readonly prepared = new Map<number, PreparedFeeds>();
  private readonly coefficients = new Map<number, EpsilonStepCoefficients | undefined>();

  constructor(
    private readonly ctx: ProgramContext,
    private readonly unet: UnetSetup,
    private readonly embeddings: Tensor,
    readonly guidanceScale: number,
  ) {
    this.cfg = usesClassifierFreeGuidance(guidanceScale);
    this.feeds = new UnetFeedCache(unet.io);
  }

  /** The prediction for the single latent `x` [1, C, h, w] at `timestep`, and what the UNet got. */
  async predict(x: Tensor, timestep: number): Promise<{ input: Tensor; eps: Tensor }> {
    const { input, raw } = await this.call(x, timestep);
    if (!this.cfg) return { input, eps: raw };
    if (this.guided === undefined || !this.guided.sameShape(x)) this.guided = new Tensor(x.dims);
    return { input, eps: classifierFreeGuidance(raw, this.guidanceScale, this.guided) };
  }

  /**
   * One scheduler step from `x` into `out` at `timestep` (x̂0 into `predOriginal`): with CFG and the
   * scheduler's single-pass ε step, guidance is computed where the step reads it (guidedEpsilonStep: the bits
   * of classifierFreeGuidance then step, without the guided buffer's pass); otherwise predict then `step`.
   * The common case awaits its call once, with no async layer between the step and the session call.
   */
  async step(
    x: Tensor,
    timestep: number,
    coefficients: (t: number) => EpsilonStepCoefficients | undefined,
    step: (eps: Tensor) => void,
    out: Tensor,
    predOriginal: Tensor,
    blend?: Blend,
  ): Promise<void> {
    if (!this.cfg || !Number.isFinite(this.guidanceScale)) {
      step((await this.predict(x, timestep)).eps);
    } else {
      const raw = await this.guidedCall(this.guidanceInput(x), timestep);
      const k = isGuidedPair(raw, x) ? this.coefficientsAt(coefficients, timestep) : undefined;
      if (k !== undefined) {
        this.fusedStep(raw, x, out, predOriginal, k, blend);
        return;
      }
      this.guidedTail(raw, x, step, out, blend);
      return;
    }
    if (blend !== undefined) diffEditBlend(out, blend.mask, blend.background, out);
  }

  /**
   * The steps of a loop on its planned path: every step's feeds and coefficients made here, before the loop,
   * when every step can take it (CFG at a finite scale, one UNet call on feeds prepared on the [x; x] buffer,
   * the scheduler's single-pass ε step); undefined otherwise (the loop then calls step()). `x`: the latent the
   * loop starts from, whose shape every step keeps.
   */
  planSteps(
    x: Tensor,
    steps: readonly { readonly timestep: number; readonly out: Tensor; readonly blend?: Blend }[],
    coefficients: (t: number) => EpsilonStepCoefficients | undefined,
  ): PlannedStep[] | undefined {
    if (!this.cfg || !Number.isFinite(this.guidanceScale)) return undefined;
    const input = this.guidanceInput(x);
    const planned: PlannedStep[] = [];
    for (const { timestep, out, blend } of steps) {
      const feeds = this.preparedFeeds(input, timestep);
      const k = coefficients(timestep);
      if (feeds === undefined || k === undefined || !out.sameShape(x)) return undefined;
      planned.push({ timestep, feeds, coefficients: k, out, ...(blend === undefined ? {} : { blend }) });
    }
    return planned;
  }

  /**
   * One planned step from `x` (the [x; x] buffer already holds it: planSteps, then each planned step, fill
   * it) into `planned.out`, x̂0 into `predOriginal`: the UNet call, then guidance, the step and the blend in
   * one pass, the same bits as step(); `step` is the scheduler's step for an output step() would not fuse.
   *
   * Measured on the bench UNet: 86–115 µs of the loop's thread a step outside session.run instead of
   * 128–147 µs through step() (docs/performance.md). After each UNet call every piece of code a step runs is
   * cold, 10–20 µs each (the same piece run again at once: ~0.3 µs); the lookups, closures and async layers
   * step() runs every step are made once here instead.
   */
  async plannedStep(
    x: Tensor,
    planned: PlannedStep,
    predOriginal: Tensor,
    step: (eps: Tensor, planned: PlannedStep) => void,
  ): Promise<void> {
    const raw = await this.ctx.runPrepared('unet', planned.feeds, this.unet.io.outName);
    const { out, blend } = planned;
    if (isGuidedPair(raw, x)) this.fusedStep(raw, x, out, predOriginal, planned.coefficients, blend);
    else this.guidedTail(raw, x, (eps) => step(eps, planned), out, blend);
    // the next step's input while the result is in cache (the last step's is not used)
    this.guidanceInput(out);
  }

  /**
   * Guidance, the scheduler's single-pass step and the blend in one pass on the UNet's [u; c] output, into
   * `out` (x̂0 into `predOriginal`): the same bits as the three (with a blend, in one pass where core can).
   */
  private fusedStep(
    raw: PreparedOutput,
    x: Tensor,
    out: Tensor,
    predOriginal: Tensor,
    k: EpsilonStepCoefficients,
    blend: Blend | undefined,
  ): void {
    const half = x.size;
    const u = raw.data.subarray(0, half);
    const c = raw.data.subarray(half, 2 * half);
    const g = this.guidanceScale;
    if (blend !== undefined) {
      guidedEpsilonStepBlend(u, c, g, x.data, out, predOriginal.data, k, blend.mask, blend.background);
    } else {
      guidedEpsilonStep(u, c, g, x.data, out.data, predOriginal.data, k.sa, k.sb, k.c1, k.c2, k.clipRange);
    }
  }

  /** A guided output step() does not fuse: guidance into its own buffer, the scheduler's step, the blend. */
  private guidedTail(
    raw: PreparedOutput,
    x: Tensor,
    step: (eps: Tensor) => void,
    out: Tensor,
    blend: Blend | undefined,
  ): void {
    if (this.guided === undefined || !this.guided.sameShape(x)) this.guided = new Tensor(x.dims);
    step(classifierFreeGuidance(asTensor(raw), this.guidanceScale, this.guided));
    if (blend !== undefined) diffEditBlend(out, blend.mask, blend.background, out);
  }

  /** The scheduler's single-pass coefficients at `timestep`, computed once a loop (the loop's are fixed). */
  private coefficientsAt(
    coefficients: (t: number) => EpsilonStepCoefficients | undefined,
    timestep: number,
  ): EpsilonStepCoefficients | undefined {
    if (this.coefficients.has(timestep)) return this.coefficients.get(timestep);
    const k = coefficients(timestep);
    this.coefficients.set(timestep, k);
    return k;
  }

  /** The UNet's output for `x` (for `[x; x]` with CFG) and its input. */
  private async call(x: Tensor, timestep: number): Promise<{ input: Tensor; raw: Tensor }> {
    const { io, maxBatch } = this.unet;
    if (!this.cfg) {
      const raw = await programUnet(this.ctx, io, maxBatch, x, timestep, this.embeddings, this.feeds);
      return { input: x, raw };
    }
    const input = this.guidanceInput(x);
    const out = await this.guidedCall(input, timestep);
    return { input, raw: asTensor(out) };
  }

  /**
   * The UNet on the [x; x] buffer: on feeds prepared once per timestep where it can (callsOnPreparedFeeds),
   * else through wire feeds made for the call. Returns the call's promise itself: no async layer of its own.
   */
  private guidedCall(input: Tensor, timestep: number): Promise<PreparedOutput> {
    const feeds = this.preparedFeeds(input, timestep);
    if (feeds === undefined) {
      const { io, maxBatch } = this.unet;
      return programUnet(this.ctx, io, maxBatch, input, timestep, this.embeddings, this.feeds);
    }
    return this.ctx.runPrepared('unet', feeds, this.unet.io.outName);
  }

  /** `[x; x]` in the loop's input buffer. */
  private guidanceInput(x: Tensor): Tensor {
    if (this.input?.dims[0] !== 2 * x.dims[0] || this.input.size !== 2 * x.size) {
      this.input = new Tensor([2 * x.dims[0], ...x.dims.slice(1)]);
      this.prepared.clear();
    }
    return duplicateForGuidance(x, this.input);
  }

  /** The input buffer's feeds at `timestep`, prepared once, when its calls can run on them. */
  private preparedFeeds(input: Tensor, timestep: number): PreparedFeeds | undefined {
    if (!this.callsOnPreparedFeeds(input.dims[0])) return undefined;
    let feeds = this.prepared.get(timestep);
    if (feeds === undefined) {
      feeds = this.ctx.prepare(this.feeds.feedsAt(input, timestep, this.embeddings));
      this.prepared.set(timestep, feeds);
    }
    return feeds;
  }

  /**
   * Whether a call on `rows` rows can run on feeds prepared once per timestep (its input buffer is refilled
   * in place): one call takes every row, and the feeds are the float32 arrays themselves (other types are
   * converted, i.e. copied, at each call). It skips the wire conversions of every step: ~0.5 ms of the model
   * worker's time per 40-step loop here (A/B in one process), the code running cold after each UNet call.
   */
  private callsOnPreparedFeeds(rows: number): boolean {
    const { io, maxBatch } = this.unet;
    return rowsPerCall(rows, maxBatch) >= rows && io.sampleType === 'float32' && io.hiddenType === 'float32';
  }
}

export interface InvertInput {
  readonly unet: UnetSetup;
  readonly config: ResolvedSchedulerConfig;
  readonly numInferenceSteps: number;
  /** the inversion's timesteps (getInverseTimesteps) */
  readonly timesteps: readonly number[];
  readonly guidanceScale: number;
  /** from promptConditioning */
  readonly embeddings: TensorData;
  /** the image latent [1, C, h, w] */
  readonly latent: LatentSource;
  readonly regularisation?: {
    readonly numRegSteps: number;
    readonly lambdaAutoCorr: number;
    readonly lambdaKl: number;
    readonly numAutoCorrRolls: number;
    readonly seed: Seed;
  };
  readonly previews?: PreviewSettings;
}

/** DDIMInvert's loop: every level of the inversion, [1, S, C, h, w] noisiest first (diffusers' stack). */
export const INVERT_PROGRAM = defineProgram<InvertInput, Float32Array>(
  MODULE,
  'diffedit-invert',
  async (input, ctx) => {
    const inverse = new DDIMInverseScheduler(input.config);
    inverse.setTimesteps(input.numInferenceSteps);
    let x = startLatents(input.latent);
    const unet = new GuidedUnet(ctx, input.unet, tensorOf(input.embeddings), input.guidanceScale);
    const reporter = new StepReporter(
      (event, transfer) => ctx.emit(event, transfer),
      input.previews,
      ctx.eventIntervalMs,
    );
    const reg = input.regularisation;
    const regRng = reg === undefined ? undefined : new SeededRng(reg.seed).fork('regularisation');
    // every step writes straight into its slot of the output (noisiest first): no per-step latents. Shared
    // memory: MaskedDenoise hands the (cached, read-only) result back to its program without a copy
    const steps = input.timesteps.length;
    const [, c, h, w] = x.dims;
    const latents = new Tensor([1, steps, c, h, w], ctx.sharedFloat32(steps * c * h * w));
    const slots = latents.reshape([steps, c, h, w]);
    const predOriginal = new Tensor(x.dims);
    const planned =
      reg === undefined
        ? unet.planSteps(
            x,
            input.timesteps.map((timestep, i) => ({ timestep, out: batchView(slots, steps - 1 - i) })),
            (t) => inverse.epsilonStepCoefficients(t),
          )
        : undefined;
    if (planned !== undefined) {
      const step = (eps: Tensor, s: PlannedStep): void =>
        void inverse.step(eps, s.timestep, x, { out: s.out, predOriginalOut: predOriginal });
      for (let i = 0; i < planned.length; i++) {
        await unet.plannedStep(x, planned[i], predOriginal, step);
        x = planned[i].out;
        reporter.report(i + 1, steps, x);
      }
      return { value: latents.data, transfer: ownedBuffers(latents.data) };
    }
    for (const [i, t] of input.timesteps.entries()) {
      const slot = batchView(slots, steps - 1 - i);
      if (reg === undefined || regRng === undefined) {
        await unet.step(
          x,
          t,
          (at) => inverse.epsilonStepCoefficients(at),
          (eps) => void inverse.step(eps, t, x, { out: slot, predOriginalOut: predOriginal }),
          slot,
          predOriginal,
        );
      } else {
        const prediction = await unet.predict(x, t);
        // in slices that yield: a cancellation lands within a slice, not after the whole step
        const eps = await regulariseNoisePredictionAsync(inverse, prediction.eps, prediction.input, t, {
          signal: ctx.signal,
          numRegSteps: reg.numRegSteps,
          lambdaAutoCorr: reg.lambdaAutoCorr,
          lambdaKl: reg.lambdaKl,
          numAutoCorrRolls: reg.numAutoCorrRolls,
          generator: regRng,
        });
        inverse.step(eps, t, x, { out: slot, predOriginalOut: predOriginal });
      }
      x = slot;
      reporter.report(i + 1, steps, x);
    }
    return { value: latents.data, transfer: ownedBuffers(latents.data) };
  },
);

export interface DenoiseInput {
  readonly unet: UnetSetup;
  readonly config: ResolvedSchedulerConfig;
  readonly numInferenceSteps: number;
  readonly plan: readonly MaskedDenoiseStep[];
  /** the inverted latents step-major [S, 1, C, h, w] (read only: shared with the caller's cache) */
  readonly stepMajor: TensorData;
  /** [1, 1, h, w], 1 = repaint */
  readonly mask: TensorData;
  readonly guidanceScale: number;
  readonly embeddings: TensorData;
  readonly eta: number;
  readonly seed: Seed;
  readonly previews?: PreviewSettings;
}

/** MaskedDenoise's loop: the edited latent [1, C, h, w]. */
export const DENOISE_PROGRAM = defineProgram<DenoiseInput, Float32Array>(
  MODULE,
  'diffedit-denoise',
  async (input, ctx) => {
    const scheduler = new DDIMScheduler(input.config);
    scheduler.setTimesteps(input.numInferenceSteps);
    const stepMajor = tensorOf(input.stepMajor);
    const [, , c, h, w] = stepMajor.dims;
    const latentDims = [1, c, h, w];
    const latentSize = c * h * w;
    // step i's background: a view of the stored latents (one Tensor, not a batch view then its reshape)
    const background = (i: number): Tensor =>
      new Tensor(latentDims, stepMajor.data.subarray(i * latentSize, (i + 1) * latentSize));
    const mask = tensorOf(input.mask);
    // x is updated in place and x̂0 reuses one buffer: the loop allocates only what the UNet call needs
    const x = background(0).clone();
    const predOriginal = Tensor.zeros(x.dims);
    const generator = input.eta > 0 ? new SeededRng(input.seed) : undefined;
    const unet = new GuidedUnet(ctx, input.unet, tensorOf(input.embeddings), input.guidanceScale);
    const reporter = new StepReporter(
      (event, transfer) => ctx.emit(event, transfer),
      input.previews,
      ctx.eventIntervalMs,
    );
    const planned = unet.planSteps(
      x,
      input.plan.map((step) => ({
        timestep: step.timestep,
        out: x,
        blend: { mask, background: background(step.latentIndex) },
      })),
      (t) => scheduler.epsilonStepCoefficients(t, input.eta),
    );
    if (planned !== undefined) {
      const step = (eps: Tensor, s: PlannedStep): void =>
        void scheduler.step(eps, s.timestep, x, {
          eta: input.eta,
          generator,
          out: x,
          predOriginalOut: predOriginal,
        });
      for (let i = 0; i < planned.length; i++) {
        await unet.plannedStep(x, planned[i], predOriginal, step);
        reporter.report(input.plan[i].index + 1, input.plan.length, x);
      }
      return { value: x.data, transfer: [x.data.buffer as ArrayBuffer] };
    }
    for (const step of input.plan) {
      await unet.step(
        x,
        step.timestep,
        (t) => scheduler.epsilonStepCoefficients(t, input.eta),
        (eps) =>
          void scheduler.step(eps, step.timestep, x, {
            eta: input.eta,
            generator,
            out: x,
            predOriginalOut: predOriginal,
          }),
        x,
        predOriginal,
        // P6: the background comes from the stored latent at level t (one step noisier than x now)
        { mask, background: background(step.latentIndex) },
      );
      reporter.report(step.index + 1, input.plan.length, x);
    }
    return { value: x.data, transfer: [x.data.buffer as ArrayBuffer] };
  },
);

export interface MaskInput {
  readonly unet: UnetSetup;
  readonly config: ResolvedSchedulerConfig;
  readonly numInferenceSteps: number;
  /** the encode timestep */
  readonly timestep: number;
  /** the seed of the node's generator: the noise is its 'noise' stream */
  readonly seed: Seed;
  /** n image latents [n, C, h, w] */
  readonly latents: LatentSource;
  /** one embedding row per group, in maskUnetBatchLayout's order: [G, L, D] */
  readonly groups: TensorData;
  readonly guidanceScale: number;
  readonly maskThresholdingRatio: number;
  /** largest UNet batch per call (the node's max_batch) */
  readonly chunk: number;
  /**
   * The UNet's outputs for the source half of the batch (rows [0, G·n/2): the source and its negative), in
   * the blocks an earlier run of the same inputs returned: those rows are not computed again (read only).
   */
  readonly sourceRows?: readonly TensorData[];
}

export interface MaskOutput {
  /** [1, h, w] in {0, 1} */
  readonly mask: TensorData;
  /**
   * the source half's UNet outputs when this run computed them (see MaskInput.sourceRows), views of one
   * array from ctx.sharedFloat32
   */
  readonly sourceRows?: readonly TensorData[];
}

/**
 * GenerateMask's UNet calls and mask (one progress event per call). The source half and the target half of
 * the batch go to the UNet in calls of their own, so that a re-run with only the target changed can reuse
 * the source half's outputs and get the same numbers as a run that computes both.
 */
export const MASK_PROGRAM = defineProgram<MaskInput, MaskOutput>(
  MODULE,
  'diffedit-mask',
  async (input, ctx) => {
    const scheduler = new DDIMScheduler(input.config);
    scheduler.setTimesteps(input.numInferenceSteps);
    const x0 = startLatents(input.latents);
    const n = x0.dims[0];
    const noise = new SeededRng(input.seed).fork('noise').randn(x0.dims);
    const xt = scheduler.addNoise(x0, noise, input.timestep, noise); // into the noise's buffer
    // diffusers' batch order (spec §5 quirk): [pos_src; neg_src; pos_tgt; neg_tgt], guided as o1 + g(o2 − o1).
    // Row r of the UNet batch is latent xt[r mod n] with group ⌊r / n⌋'s embedding.
    const [groupCount, ...embeddingTail] = input.groups.dims;
    const embeddingRow = input.groups.data.length / groupCount;
    const rows = groupCount * n;
    const latentRow = xt.size / n;
    const chunk = input.chunk;
    // the batch's two halves (source rows, target rows) are chunked separately
    const half = rows / 2;
    const given = input.sourceRows?.map(tensorOf);
    // A target group whose embedding is a source group's, bit for bit (the two "" negatives of the defaults;
    // every group when the prompts are the same), takes that group's rows: the same latents and embedding
    // give the same UNet output, so they are not computed again (diffusers computes them twice).
    const sourceGroups = groupCount / 2;
    const twins = twinGroups(input.groups.data, embeddingRow, sourceGroups);
    const targetRows: number[] = [];
    for (let t = 0; t < sourceGroups; t++) {
      if (twins[t] < 0) for (let j = 0; j < n; j++) targetRows.push((sourceGroups + t) * n + j);
    }
    // the source half and the target's own rows are chunked separately (a half has the same bits whenever
    // it runs in the same calls: what lets a remembered source half stand in for a fresh one)
    const sourceCalls = rowChunks(
      given === undefined ? Array.from({ length: half }, (_, r) => r) : [],
      chunk,
    );
    const calls = [...sourceCalls, ...rowChunks(targetRows, chunk)];
    // one pair of row buffers for every call (shorter calls use their first rows): the UNet reads them
    // during its call only
    const width = Math.max(0, ...calls.map((c) => c.length));
    const latentRows = new Float32Array(width * latentRow);
    const embeddingRows = new Float32Array(width * embeddingRow);
    // every row of the batch as the block that holds it and its index there
    const rowBlock: Tensor[] = new Array<Tensor>(rows);
    const rowIndex: number[] = new Array<number>(rows);
    let placed = 0;
    for (const block of given ?? []) {
      for (let k = 0; k < block.dims[0]; k++, placed++) [rowBlock[placed], rowIndex[placed]] = [block, k];
    }
    const computed: Tensor[] = [];
    for (const [i, call] of calls.entries()) {
      ctx.throwIfCancelled();
      const count = call.length;
      const latents = new Tensor([count, ...xt.dims.slice(1)], latentRows.subarray(0, count * latentRow));
      const embeddings = new Tensor(
        [count, ...embeddingTail],
        embeddingRows.subarray(0, count * embeddingRow),
      );
      for (const [k, r] of call.entries()) {
        const g = Math.floor(r / n);
        latents.data.set(xt.data.subarray((r % n) * latentRow, ((r % n) + 1) * latentRow), k * latentRow);
        embeddings.data.set(
          input.groups.data.subarray(g * embeddingRow, (g + 1) * embeddingRow),
          k * embeddingRow,
        );
      }
      const pred = await programUnet(
        ctx,
        input.unet.io,
        input.unet.maxBatch,
        latents,
        input.timestep,
        embeddings,
      );
      computed.push(pred);
      for (const [k, r] of call.entries()) [rowBlock[r], rowIndex[r]] = [pred, k];
      ctx.emit({ step: i + 1, total: calls.length } satisfies StepEvent);
    }
    for (let t = 0; t < sourceGroups; t++) {
      const twin = twins[t];
      if (twin < 0) continue;
      for (let j = 0; j < n; j++) {
        [rowBlock[(sourceGroups + t) * n + j], rowIndex[(sourceGroups + t) * n + j]] = [
          rowBlock[twin * n + j],
          rowIndex[twin * n + j],
        ];
      }
    }
    if (rows === 0 || rowBlock[0] === undefined) throw new Error('GenerateMask: no UNet call was made');
    // the batch's rows in order, each a view of the output that holds it (no stacked copy of the whole output)
    const rowSize = rowBlock[0].size / rowBlock[0].dims[0];
    const tail = rowBlock[0].dims.slice(1);
    const blocks = rowBlock.map(
      (block, r) =>
        new Tensor([1, ...tail], block.data.subarray(rowIndex[r] * rowSize, (rowIndex[r] + 1) * rowSize)),
    );
    const { mask } = diffEditMaskFromUnetRowBlocks(blocks, input.guidanceScale, {
      batchSize: 1,
      numMapsPerMask: n,
      maskThresholdingRatio: input.maskThresholdingRatio,
    });
    const value: MaskOutput = { mask: { dims: mask.dims, data: mask.data } };
    if (given !== undefined) return { value, transfer: [mask.data.buffer as ArrayBuffer] };
    // the source half's blocks go back for the caller to keep, copied into shared memory: a re-run hands
    // them back to this program without a structured clone (read only here, like every input)
    const sourceBlocks = computed.slice(0, sourceCalls.length);
    const shared = ctx.sharedFloat32(sourceBlocks.reduce((sum, t) => sum + t.size, 0));
    let offset = 0;
    const sourceRows = sourceBlocks.map((t) => {
      const data = shared.subarray(offset, offset + t.size);
      data.set(t.data);
      offset += t.size;
      return { dims: t.dims, data };
    });
    return { value: { ...value, sourceRows }, transfer: [mask.data.buffer as ArrayBuffer] };
  },
);

/** `rows` in consecutive calls of at most `chunk` rows. */
function rowChunks(rows: readonly number[], chunk: number): number[][] {
  const out: number[][] = [];
  for (let a = 0; a < rows.length; a += chunk) out.push(rows.slice(a, a + chunk));
  return out;
}

/**
 * For each target group (groups [s, 2s) of `data`'s 2s rows of `rowLength` values), the first source group
 * (in [0, s)) with the same bits, or −1.
 */
function twinGroups(data: Float32Array, rowLength: number, s: number): number[] {
  const group = (g: number): Float32Array => data.subarray(g * rowLength, (g + 1) * rowLength);
  return Array.from({ length: s }, (_, t) => {
    for (let g = 0; g < s; g++) if (sameBits(group(s + t), group(g))) return g;
    return -1;
  });
}

/**
 * The start of a loop for `count` latents of an encoded image: the posterior's parameters when the export
 * gives them (the program draws the samples), else latents drawn here by `sample` (an export that samples
 * inside its graph: those draws need the VAE again).
 */
export async function latentSource(
  encoding: { kind: 'parameters'; mean: Tensor; logvar: Tensor } | { kind: 'sample' },
  scalingFactor: number,
  count: number,
  seed: Seed,
  sample: () => Promise<Tensor>,
): Promise<{ source: LatentSource; transfer: ArrayBuffer[]; dims: readonly number[] }> {
  if (encoding.kind === 'parameters') {
    const { mean, logvar } = encoding;
    const [, c, h, w] = mean.dims;
    return {
      // read only: the encoding stays cached here (a worker gets copies: two small latents)
      source: {
        kind: 'posterior',
        mean: { dims: mean.dims, data: mean.data },
        logvar: { dims: logvar.dims, data: logvar.data },
        scalingFactor,
        count,
        seed,
      },
      transfer: [],
      dims: [count, c, h, w],
    };
  }
  const latents = await sample();
  return {
    source: { kind: 'latents', latents: { dims: latents.dims, data: latents.data } },
    // made for this call: the worker takes the buffer
    transfer: ownedBuffers(latents.data),
    dims: latents.dims,
  };
}
