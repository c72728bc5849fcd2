// Exiting while a session.run is in flight in the inference worker makes onnxruntime-node abort the process
// (SIGABRT, exit 134); WorkerBackend.close waits for the call's answer first, so the exit code survives.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { writeToyPack } from '@diffedit/toy-models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const backendUrl = new URL('../../dist/models/worker-backend.js', import.meta.url).href;
let models: string;

beforeAll(async () => {
  models = mkdtempSync(join(tmpdir(), 'diffedit-worker-close-'));
  await writeToyPack(models);
});
afterAll(() => rmSync(models, { recursive: true, force: true }));

describe('WorkerBackend.close', () => {
  it('lets the process exit with its own code after an abandoned call (3 times)', () => {
    const decoder = join(models, 'toy-sd', 'vae_decoder', 'model.onnx');
    // A large decode, abandoned by its signal, then close and exit while the worker may still be running it.
    const script = `
      const { WorkerBackend } = await import(${JSON.stringify(backendUrl)});
      const backend = new WorkerBackend();
      const session = await backend.open(${JSON.stringify(decoder)}, { providers: ['cpu'] });
      const controller = new AbortController();
      const run = session.run(
        { [session.inputs[0].name]: { type: 'float32', dims: [1, 4, 256, 256], data: new Float32Array(4 * 256 * 256) } },
        { signal: controller.signal },
      ).catch((e) => e.name);
      setTimeout(() => controller.abort(), 20);
      if ((await run) !== 'AbortError') process.exit(3);
      await backend.close();
      process.exit(130);
    `;
    const file = join(models, 'close-then-exit.mjs');
    writeFileSync(file, script);
    for (let i = 0; i < 3; i++) {
      const child = spawnSync(process.execPath, [file], { encoding: 'utf8' });
      expect({ status: child.status, signal: child.signal }, child.stderr.slice(-500)).toEqual({
        status: 130,
        signal: null,
      });
    }
  }, 120_000);
});
