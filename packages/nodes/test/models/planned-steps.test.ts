import {
  DDIMInverseScheduler,
  DDIMScheduler,
  diffEditSchedulerConfig,
  getInverseTimesteps,
  maskedDenoisePlan,
} from '@diffedit/core';
import type { InferenceSession } from 'onnxruntime-node';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

import { hostProgram } from '../../src/models/program-host.js';
import type { HostedSession } from '../../src/models/program-host.js';
import type { ProgramRef } from '../../src/models/program.js';
import { unetIo } from '../../src/models/unet-call.js';
import { DENOISE_PROGRAM, INVERT_PROGRAM } from '../../src/nodes/diffedit/loop-programs.js';
import type { DenoiseInput, InvertInput } from '../../src/nodes/diffedit/loop-programs.js';

/**
 * The sampling loops take a planned path (every step's feeds and coefficients made before the loop) where
 * they can, and the per-step path otherwise (here: max batch 1, so that each row is a call of its own). On a
 * stand-in UNet whose rows are independent, both must give the same bits, and fail the same way on an output
 * of the wrong shape.
 */
const [C, H, W, L, D] = [4, 8, 8, 3, 5];
const config = diffEditSchedulerConfig({
  num_train_timesteps: 1000,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  beta_end: 0.012,
  clip_sample: false,
  set_alpha_to_one: false,
  steps_offset: 1,
  prediction_type: 'epsilon',
}).config;
const STEPS = 10;
const inverse = new DDIMInverseScheduler(config);
inverse.setTimesteps(STEPS);
const timesteps = [...getInverseTimesteps(inverse, 0.8).timesteps];
const forward = new DDIMScheduler(config);
forward.setTimesteps(STEPS);
const plan = maskedDenoisePlan(forward, 0.8, timesteps.length);

const wave = (n: number, f: number): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * f));
const latent = { dims: [1, C, H, W], data: wave(C * H * W, 0.37) };
// [negative; positive]: rows that differ, so that guidance moves the prediction
const embeddings = { dims: [2, L, D], data: wave(2 * L * D, 1.3) };

/** A UNet stand-in: row r's output is 0.9·sample + 0.01·(its embedding's first value) + 1e-4·t, `channels` wide. */
function fakeUnet(channels = C): HostedSession {
  const run = (feeds: Record<string, ort.Tensor>, names: readonly string[] = ['out_sample']) => {
    const sample = feeds.sample.data as Float32Array;
    const steps = feeds.timestep.data as BigInt64Array;
    const hidden = feeds.encoder_hidden_states.data as Float32Array;
    const rows = feeds.sample.dims[0];
    const row = channels * H * W;
    const out = new Float32Array(rows * row);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < row; i++) {
        const x = sample[r * C * H * W + (i % (C * H * W))];
        out[r * row + i] = 0.9 * x + 0.01 * hidden[r * L * D] + 1e-4 * Number(steps[r]);
      }
    }
    return Promise.resolve({ [names[0]]: new ort.Tensor('float32', out, [rows, channels, H, W]) });
  };
  return {
    inputs: [
      { name: 'sample', type: 'float32', shape: ['batch', C, H, W] },
      { name: 'timestep', type: 'int64', shape: ['batch'] },
      { name: 'encoder_hidden_states', type: 'float32', shape: ['batch', L, D] },
    ],
    outputs: [{ name: 'out_sample', type: 'float32', shape: ['batch', channels, H, W] }],
    session: { run } as unknown as InferenceSession,
  };
}

function host<I, O>(program: ProgramRef<I, O>, input: I, unet: HostedSession): Promise<O> {
  return hostProgram({
    module: program.module,
    name: program.name,
    input,
    sessions: { unet },
    recordFeeds: [],
    signal: new AbortController().signal,
    cancelled: () => false,
    cancelError: () => new Error('cancelled'),
    emit: () => {},
    deliverCalls: () => {},
    crossesThreads: false,
    measure: false,
  }).then(({ result }) => result.value as O);
}

function invertInput(unet: HostedSession, maxBatch: number | undefined): InvertInput {
  return {
    unet: { io: unetIo(unet, 'fake'), maxBatch },
    config,
    numInferenceSteps: STEPS,
    timesteps,
    guidanceScale: 7.5,
    embeddings,
    latent: { kind: 'latents', latents: latent },
  };
}

function denoiseInput(
  unet: HostedSession,
  maxBatch: number | undefined,
  inverted: Float32Array,
): DenoiseInput {
  const mask = new Float32Array(H * W).map((_, i) => (i % W < W / 2 ? 1 : 0));
  return {
    unet: { io: unetIo(unet, 'fake'), maxBatch },
    config,
    numInferenceSteps: STEPS,
    plan,
    stepMajor: { dims: [timesteps.length, 1, C, H, W], data: inverted },
    mask: { dims: [1, 1, H, W], data: mask },
    guidanceScale: 7.5,
    embeddings,
    eta: 0,
    seed: 0,
  };
}

describe('the sampling loops’ planned path', () => {
  it('gives the per-step path’s bits: every inverted level, then the edited latent', async () => {
    const unet = fakeUnet();
    const planned = await host(INVERT_PROGRAM, invertInput(unet, undefined), unet);
    const perStep = await host(INVERT_PROGRAM, invertInput(unet, 1), unet);
    expect(planned.length).toBe(timesteps.length * C * H * W);
    expect(Buffer.from(planned.buffer).equals(Buffer.from(perStep.buffer))).toBe(true);
    // the levels moved away from the start (a loop that wrote nothing would pass the comparison)
    expect(planned.subarray(0, C * H * W)).not.toEqual(latent.data);

    const edited = await host(DENOISE_PROGRAM, denoiseInput(unet, undefined, planned), unet);
    const editedPerStep = await host(DENOISE_PROGRAM, denoiseInput(unet, 1, planned), unet);
    expect(Buffer.from(edited.buffer).equals(Buffer.from(editedPerStep.buffer))).toBe(true);
    // unmasked columns are the inverted start (the blend), masked ones are not
    const start = planned.subarray((timesteps.length - 1) * C * H * W);
    expect(edited[W - 1]).toBe(start[W - 1]);
    expect(edited[0]).not.toBe(start[0]);
  });

  it('fails as the per-step path does on a UNet output of the wrong shape', async () => {
    const unet = fakeUnet(3);
    const failure = (maxBatch: number | undefined) =>
      host(INVERT_PROGRAM, invertInput(unet, maxBatch), unet).then(
        () => 'no error',
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
    const planned = await failure(undefined);
    expect(planned).toMatch(/classifier-free guidance/);
    expect(planned).toBe(await failure(1));
  });
});
