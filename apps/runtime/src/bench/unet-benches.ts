import { maskUnetBatchLayout, repeatInterleaveBatch, SeededRng } from '@diffedit/core';
import type { Tensor } from '@diffedit/core';
import { GenerateMaskNode } from '@diffedit/nodes';
import { TOY_PACK_FOLDERS } from '@diffedit/toy-models';
import type { DiffusionModel, InferenceMode } from '@diffedit/nodes';

import type { EventLoopLag } from './measure.js';
import { measureEventLoopLag, timeRepetitions } from './measure.js';
import type { BenchContext } from './resources.js';
import type { BenchDefinition, BenchOutcome } from './suite.js';
import { round3, summarize } from './stats.js';

/** The 512×512 demo image's latent side (512 / the VAE's 8× downscale). */
const DEMO_IMAGE_SIDE = 512;

/** A numeric default of a GenerateMask param, so the benchmark follows the node rather than a copy of it. */
export function generateMaskDefault(param: string): number {
  const spec = GenerateMaskNode.params[param] as { default?: unknown } | undefined;
  if (spec === undefined || typeof spec.default !== 'number') {
    throw new Error(`GenerateMask has no numeric param '${param}'`);
  }
  return spec.default;
}

/** GenerateMask's UNet batch at its defaults: 4 prompt slots × num_maps_per_mask rows. */
export function maskBatchRows(): number {
  const slots = maskUnetBatchLayout('diffusers', generateMaskDefault('mask_guidance_scale')).length;
  return slots * generateMaskDefault('num_maps_per_mask');
}

/**
 * Largest timer lag accepted while a worker-mode batch runs. The main thread only posts messages meanwhile, so
 * what remains is CPU contention: up to ~150 ms was seen on a 2-core machine running 4× more work than cores
 * (onnxruntime's threads compete with the main thread). A session call on the main thread with a real UNet
 * blocks for seconds, far above this.
 */
const MAX_WORKER_LAG_MS = 250;

interface UnetCase {
  label: string;
  batch: number;
}

function unetCases(): UnetCase[] {
  return [
    { label: 'batch1', batch: 1 },
    { label: 'batch2', batch: 2 },
    { label: 'mask-batch', batch: maskBatchRows() },
  ];
}

/** Benchmark 4: one definition per inference mode × batch size. */
export function unetBenchmarks(): BenchDefinition[] {
  const modes: InferenceMode[] = ['worker', 'in-process'];
  return modes.flatMap((mode) =>
    unetCases().map((c) => ({
      name: `unet-${mode}-${c.label}`,
      description:
        `toy-sd UNet, ${c.batch} row(s) of 4×64×64 latents per call, ${mode} sessions` +
        (c.label === 'mask-batch' ? ' (GenerateMask batch, split by max_batch)' : ''),
      run: (ctx: BenchContext) => unetThroughput(ctx, mode, c),
    })),
  );
}

async function unetInputs(model: DiffusionModel, batch: number): Promise<{ sample: Tensor; hidden: Tensor }> {
  const side = DEMO_IMAGE_SIDE / model.vaeScaleFactor;
  const rng = new SeededRng(0);
  const sample = rng.randn([batch, model.latentChannels, side, side]);
  const hidden = repeatInterleaveBatch(await model.encodePrompt(['a red apple']), batch);
  return { sample, hidden };
}

async function unetThroughput(ctx: BenchContext, mode: InferenceMode, c: UnetCase): Promise<BenchOutcome> {
  const model = await ctx.resources.manager(mode).loadDiffusion(TOY_PACK_FOLDERS.sd);
  const { sample, hidden } = await unetInputs(model, c.batch);
  const maxBatch = model.maxBatch ?? c.batch;
  const sessionCalls = Math.ceil(c.batch / maxBatch);
  // small batches are quick: more repetitions keep the median stable
  const repetitions = c.batch <= 2 ? (ctx.quick ? 10 : 40) : ctx.quick ? 10 : 30;
  const timestep = 500;
  const run = (): Promise<void> => model.unet(sample, timestep, hidden).then(() => undefined);
  let lag: EventLoopLag | undefined;
  let idleLag: EventLoopLag | undefined;
  let samples: number[];
  if (c.label === 'mask-batch') {
    // is the event loop free while the batch runs? (worker mode: it should be; in-process: it is blocked)
    const measured = await measureEventLoopLag(() => timeRepetitions(repetitions, run, { warmup: 1 }));
    samples = measured.result;
    lag = measured.lag;
    // the same probe with nothing running: the machine's own timer noise, to read the lag against
    const idleMs = Math.min(
      1000,
      Math.max(
        100,
        samples.reduce((sum, ms) => sum + ms, 0),
      ),
    );
    idleLag = (await measureEventLoopLag(() => new Promise((resolve) => setTimeout(resolve, idleMs)))).lag;
  } else {
    samples = await timeRepetitions(repetitions, run, { warmup: 2 });
  }
  return {
    params: {
      mode,
      batch: c.batch,
      maxBatch,
      sessionCallsPerUnetCall: sessionCalls,
      latent: sample.dims,
      encoderHiddenStates: hidden.dims,
      provider: model.providers.unet,
    },
    samples,
    perRepetition: { calls: 1, sessionCalls, rows: c.batch },
    details: {
      // what one session call costs: the lag an in-process call must cause, for comparison with the lag seen
      sessionCallMedianMs: round3(summarize(samples).median / sessionCalls),
      ...(lag === undefined ? {} : { eventLoopLag: lag, eventLoopLagIdle: idleLag }),
    },
    checks:
      lag !== undefined && mode === 'worker'
        ? [
            {
              name: 'event loop stays responsive',
              ok: lag.maxMs <= MAX_WORKER_LAG_MS,
              detail: `max timer lag ${lag.maxMs} ms while the batch ran (limit ${MAX_WORKER_LAG_MS} ms)`,
            },
          ]
        : [],
  };
}
