// Worker mode runs the compiled worker from packages/nodes/dist (npm test builds first; `npx tsc -b` by hand).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '@diffedit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelManager } from '../../src/models/model-manager.js';
import { WorkerBackend } from '../../src/models/worker-backend.js';
import { defaultWorkerPath } from '../../src/models/worker-location.js';
import { SD1_VARIANT, writeTinySd } from './fixtures/tiny-sd.js';
import { writeTinyT5 } from './fixtures/tiny-t5.js';
import { writeTinyBlip } from './fixtures/tiny-blip.js';
import { writeSlowModel } from './fixtures/slow-model.js';

const modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-worker-'));
const common = { modelsDir, providers: ['cpu'], logger: (): void => {} };
const inProcess = new ModelManager({ ...common, mode: 'in-process' });
const worker = new ModelManager({ ...common, mode: 'worker' });

beforeAll(() => {
  if (!existsSync(defaultWorkerPath())) {
    throw new Error(`worker tests need the compiled worker ${defaultWorkerPath()}: run npx tsc -b first`);
  }
  writeTinySd(join(modelsDir, 'sd'), {
    ...SD1_VARIANT,
    timestep: 'float16-scalar',
    float: 'float16',
    vaeOutput: 'latent_parameters',
  });
  writeTinySd(join(modelsDir, 'sd32'), { ...SD1_VARIANT, vaeOutput: 'latent_parameters' }); // float32 I/O
  writeTinyT5(join(modelsDir, 't5'), { plain: false, merged: true });
  writeTinyBlip(join(modelsDir, 'blip'));
  writeSlowModel(join(modelsDir, 'slow.onnx'), 384, 100);
});

/**
 * A slow model calibrated to this machine: one run takes about `targetMs` here, whatever the core's speed, so
 * the tests below compare counts and orderings, never durations. The per-product cost is measured in process
 * on one thread (as the worker sessions below run) on a short chain, then the chain is lengthened to fit.
 */
async function calibratedSlowModel(targetMs: number): Promise<{ path: string; runMs: number }> {
  const probe = writeSlowModel(join(modelsDir, 'probe.onnx'), 384, 20);
  const backend = new WorkerBackend();
  // a fresh input each call: the worker backend transfers (detaches) the caller's buffers
  const x = (): { type: 'float32'; dims: number[]; data: Float32Array } => ({
    type: 'float32',
    dims: [384, 384],
    data: new Float32Array(384 * 384),
  });
  const timeRun = async (path: string): Promise<number> => {
    const session = await backend.open(path, { providers: ['cpu'], intraOpNumThreads: 1 });
    await session.run({ x: x() }); // warm-up
    const started = performance.now();
    await session.run({ x: x() });
    return performance.now() - started;
  };
  try {
    const perProduct = Math.max((await timeRun(probe)) / 20, 1e-3);
    const repeats = Math.min(20_000, Math.max(20, Math.ceil(targetMs / perProduct)));
    const path = writeSlowModel(join(modelsDir, 'slow-calibrated.onnx'), 384, repeats);
    return { path, runMs: await timeRun(path) };
  } finally {
    await backend.close();
  }
}

afterAll(async () => {
  await inProcess.close();
  await worker.close();
  rmSync(modelsDir, { recursive: true, force: true });
});

const seq = (n: number, f: (i: number) => number): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => f(i));

describe('worker mode', () => {
  it('gives the same numbers as in-process for every model call, and leaves the caller’s tensors intact', async () => {
    const [a, b] = [await inProcess.loadDiffusion('sd'), await worker.loadDiffusion('sd')];
    expect((await worker.providerInfo()).sessions.every((s) => s.mode === 'worker')).toBe(true);
    const sample = new Tensor(
      [3, 4, 2, 2],
      seq(48, (i) => Math.sin(i)),
    );
    const hidden = await a.encodePrompt(['a red apple', 'a cat', '']);
    expect(Array.from((await b.encodePrompt(['a red apple', 'a cat', ''])).data)).toEqual(
      Array.from(hidden.data),
    );
    const outA = await a.unet(sample, 500, hidden);
    const outB = await b.unet(sample, 500, hidden);
    expect(Array.from(outB.data)).toEqual(Array.from(outA.data));
    expect(sample.data.length).toBe(48); // not detached by the transfer
    expect(hidden.data.length).toBe(3 * 77 * 4);
    const image = new Tensor(
      [1, 3, 16, 16],
      seq(768, (i) => Math.cos(i)),
    );
    expect(await b.vaeEncode(image)).toEqual(await a.vaeEncode(image));
    expect(image.data.length).toBe(768);
    const z = new Tensor(
      [2, 4, 2, 2],
      seq(32, (i) => i / 32),
    );
    expect(Array.from((await b.vaeDecode(z)).data)).toEqual(Array.from((await a.vaeDecode(z)).data));

    const opts = { doSample: true, numReturnSequences: 6, seed: 11, maxNewTokens: 16 };
    const [t5a, t5b] = [await inProcess.loadT5('t5'), await worker.loadT5('t5')];
    expect(await t5b.generate('a caption about a pear', opts)).toEqual(
      await t5a.generate('a caption about a pear', opts),
    );

    const red = new Tensor(
      [1, 3, 32, 32],
      seq(3072, (i) => (i < 1024 ? 1 : 0.1)),
    );
    const [blipA, blipB] = [await inProcess.loadBlip('blip'), await worker.loadBlip('blip')];
    expect(await blipB.caption(red)).toBe(await blipA.caption(red));
  });

  it('takes a handed-over input instead of a copy (its buffer moves to the worker), with the same numbers', async () => {
    // float32 inputs (a float16 model's inputs are converted, never the caller's buffer)
    const [a, b] = [await inProcess.loadDiffusion('sd32'), await worker.loadDiffusion('sd32')];
    const values = seq(32, (i) => Math.sin(i));
    const hidden = await a.encodePrompt(['a red apple', '']);
    const expected = await a.unet(new Tensor([2, 4, 2, 2], values), 500, hidden);
    const sample = new Tensor([2, 4, 2, 2], values.slice());
    const handedHidden = hidden.clone();
    const got = await b.unet(sample, 500, handedHidden, { handOverSample: true, handOverEmbeddings: true });
    expect(Array.from(got.data)).toEqual(Array.from(expected.data));
    expect(sample.data.length).toBe(0); // transferred, not copied
    expect(handedHidden.data.length).toBe(0);
    // a view into a larger buffer is never transferred (it would clone the whole buffer): copied as before
    const big = new Tensor(
      [4, 4, 2, 2],
      seq(64, (i) => Math.sin(i % 32)),
    );
    const view = new Tensor([2, 4, 2, 2], big.data.subarray(0, 32));
    expect(Array.from((await b.unet(view, 500, hidden, { handOverSample: true })).data)).toEqual(
      Array.from(expected.data),
    );
    expect(big.data.length).toBe(64);
    const image = new Tensor(
      [1, 3, 16, 16],
      seq(768, (i) => Math.cos(i)),
    );
    const encoded = await a.vaeEncode(image.clone());
    const handed = image.clone();
    expect(await b.vaeEncode(handed, { handOverInput: true })).toEqual(encoded);
    expect(handed.data.length).toBe(0);
  });

  it('keeps the event loop responsive while a slow model runs', async () => {
    // A run blocking the loop would let the 5 ms timer fire about once per run; a free loop fires it about
    // runMs / 5 times. The model is calibrated to take ~200 ms here, so the two differ by an order of magnitude.
    const slow = await calibratedSlowModel(200);
    const backend = new WorkerBackend();
    try {
      const session = await backend.open(slow.path, { providers: ['cpu'], intraOpNumThreads: 1 });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const started = performance.now();
      const out = await session.run({
        x: { type: 'float32', dims: [384, 384], data: seq(384 * 384, (i) => i % 3) },
      });
      const elapsed = performance.now() - started;
      clearInterval(timer);
      expect(out.y.data[4]).toBe(1);
      expect(ticks).toBeGreaterThanOrEqual(5);
      // relative to the time this run actually took, not to an absolute duration
      expect(ticks).toBeGreaterThan((elapsed / 5) * 0.2);
    } finally {
      await backend.close();
    }
  });

  it('an abort rejects a running call at once; the next call still works', async () => {
    const slow = await calibratedSlowModel(600);
    const backend = new WorkerBackend();
    try {
      const session = await backend.open(slow.path, { providers: ['cpu'], intraOpNumThreads: 1 });
      const feeds = (): { x: { type: 'float32'; dims: number[]; data: Float32Array } } => ({
        x: { type: 'float32', dims: [384, 384], data: new Float32Array(384 * 384) },
      });
      const controller = new AbortController();
      let settled = false;
      const pending = session.run(feeds(), { signal: controller.signal });
      void pending.catch(() => {}).finally(() => (settled = true));
      // the model takes ~600 ms here: 20 ms in, the worker is computing (the call has not settled)
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(settled).toBe(false);
      controller.abort();
      // "at once": settled before the next turn of the event loop, not when the worker is done
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled).toBe(true);
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      await expect(session.run(feeds(), { signal: controller.signal })).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect((await session.run(feeds())).y.dims).toEqual([384, 384]);
    } finally {
      await backend.close();
    }
  });

  it('a session whose worker has stopped says so instead of running on a stale id', async () => {
    const backend = new WorkerBackend();
    const session = await backend.open(join(modelsDir, 'slow.onnx'), { providers: ['cpu'] });
    await backend.close();
    const x = { type: 'float32' as const, dims: [384, 384], data: new Float32Array(384 * 384) };
    await expect(session.run({ x })).rejects.toMatchObject({ code: 'model_worker_failed' });
    await expect(session.release()).resolves.toBeUndefined();
    const reopened = await backend.open(join(modelsDir, 'slow.onnx'), { providers: ['cpu'] });
    expect((await reopened.run({ x })).y.dims).toEqual([384, 384]);
    await backend.close();
  });

  it('refuses an input whose buffer was already transferred instead of waiting forever', async () => {
    const backend = new WorkerBackend();
    try {
      const session = await backend.open(join(modelsDir, 'slow.onnx'), { providers: ['cpu'] });
      const x = { type: 'float32' as const, dims: [384, 384], data: new Float32Array(384 * 384) };
      expect((await session.run({ x })).y.dims).toEqual([384, 384]);
      expect(x.data.length).toBe(0); // detached by the transfer
      await expect(session.run({ x })).rejects.toMatchObject({
        code: 'model_io_mismatch',
        message: expect.stringContaining("input 'x' has 0 values"),
      });
    } finally {
      await backend.close();
    }
  });

  it('names the missing compiled worker file', async () => {
    const missing = join(modelsDir, 'dist', 'models', 'inference-worker.js');
    const backend = new WorkerBackend(missing);
    await expect(backend.open(join(modelsDir, 'slow.onnx'), { providers: ['cpu'] })).rejects.toMatchObject({
      code: 'model_worker_missing',
      message: expect.stringContaining(missing),
    });
  });
});
