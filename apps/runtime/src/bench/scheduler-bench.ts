import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  batchView,
  createDiffEditSchedulers,
  diffEditBlend,
  invertedLatentsStepMajor,
  maskedDenoisePlan,
  SeededRng,
  Tensor,
} from '@diffedit/core';
import type { DDIMScheduler, MaskedDenoiseStep } from '@diffedit/core';
import { TOY_PACK_FOLDERS } from '@diffedit/toy-models';

import { timeRepetitions } from './measure.js';
import type { BenchContext } from './resources.js';
import type { BenchOutcome } from './suite.js';
import { round3, summarize } from './stats.js';
import { countTypedArrayAllocations } from './typed-array-counter.js';

const STEPS = 50;
const LATENT = [1, 4, 64, 64] as const;

/** Everything the loop reads, made once: a stand-in noise prediction, the mask and the stored latents. */
interface LoopInputs {
  scheduler: DDIMScheduler;
  plan: MaskedDenoiseStep[];
  eps: Tensor;
  mask: Tensor;
  background: (i: number) => Tensor;
  start: Tensor;
}

async function loopInputs(ctx: BenchContext): Promise<LoopInputs> {
  const configPath = join(ctx.modelsDir, TOY_PACK_FOLDERS.sd, 'scheduler', 'scheduler_config.json');
  const config = JSON.parse(await readFile(configPath, 'utf8')) as unknown;
  const { scheduler } = createDiffEditSchedulers(config);
  scheduler.setTimesteps(STEPS);
  const plan = maskedDenoisePlan(scheduler, 1, STEPS);
  const rng = new SeededRng(0);
  const [, c, h, w] = LATENT;
  const eps = rng.randn([...LATENT]);
  const mask = new Tensor([1, 1, h, w]);
  // left half repainted, right half kept: both blend paths do real work
  for (let y = 0; y < h; y++) for (let x = 0; x < w / 2; x++) mask.data[y * w + x] = 1;
  const stepMajor = invertedLatentsStepMajor(rng.randn([1, STEPS, c, h, w]), 1);
  const background = (i: number): Tensor => batchView(stepMajor, i).reshape([...LATENT]);
  return { scheduler, plan, eps, mask, background, start: background(0).clone() };
}

/** The hot loop with every buffer preallocated: step() writes in place, the blend writes in place. */
function loopReusingBuffers(inputs: LoopInputs, x: Tensor, x0: Tensor): void {
  const { scheduler, plan, eps, mask, background } = inputs;
  for (const step of plan) {
    scheduler.step(eps, step.timestep, x, { out: x, predOriginalOut: x0 });
    diffEditBlend(x, mask, background(step.latentIndex), x);
  }
}

/** The hot loop without out buffers: step() allocates its two outputs every step. */
function loopAllocating(inputs: LoopInputs, start: Tensor): Tensor {
  const { scheduler, plan, eps, mask, background } = inputs;
  let x = start;
  for (const step of plan) {
    x = scheduler.step(eps, step.timestep, x).prevSample;
    x = diffEditBlend(x, mask, background(step.latentIndex), x);
  }
  return x;
}

async function schedulerBench(ctx: BenchContext, reuse: boolean): Promise<BenchOutcome> {
  const inputs = await loopInputs(ctx);
  const x = inputs.start.clone();
  const x0 = new Tensor([...LATENT]);
  const once = (): void => {
    x.data.set(inputs.start.data);
    if (reuse) loopReusingBuffers(inputs, x, x0);
    else loopAllocating(inputs, x);
  };
  const repetitions = ctx.quick ? 5 : 20;
  const samples = await timeRepetitions(repetitions, once, { warmup: 2 });
  // a separate, untimed pass counts the typed arrays the 50 steps create
  const allocations = countTypedArrayAllocations(once);
  const perStep = allocations / STEPS;
  const msPerStep = round3(summarize(samples).median / STEPS);
  return {
    params: { steps: STEPS, latent: [...LATENT], mask: [1, 1, LATENT[2], LATENT[3]], buffersReused: reuse },
    samples,
    perRepetition: { steps: STEPS },
    details: { msPerStep, typedArraysAllocated: allocations, typedArraysPerStep: perStep },
    checks: reuse
      ? [
          {
            name: 'no typed array allocated per step',
            ok: allocations === 0,
            detail: `${allocations} typed arrays created in ${STEPS} steps`,
          },
        ]
      : [],
  };
}

/** Benchmark 5: the scheduler hot loop with reused buffers (the target: no allocation per step). */
export function schedulerLoop(ctx: BenchContext): Promise<BenchOutcome> {
  return schedulerBench(ctx, true);
}

/** Benchmark 5, for comparison: the loop without out buffers (what a node calling plain step() pays). */
export function schedulerLoopAllocating(ctx: BenchContext): Promise<BenchOutcome> {
  return schedulerBench(ctx, false);
}
