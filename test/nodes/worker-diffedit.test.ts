// The runtime's default wiring runs the DiffEdit nodes on worker-thread sessions; the results equal an in-process
// run. Needs the compiled worker (npx tsc -b).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Tensor } from '@diffedit/core';
import { createRuntime } from '@diffedit/runtime';
import type { Runtime } from '@diffedit/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { defaultWorkerPath, ModelManager, ModelManagerKey } from '@diffedit/nodes';
import { ensureToyPack } from '@diffedit/toy-models';
import { ASSETS, runtimeWith } from './toy-runtime.js';
import { DENOISE_EDGES, EDIT_INPUT_NODES, INVERT_EDGES, MASK_EDGES, workflowDoc } from './workflow-doc.js';

const modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-worker-nodes-'));
let byDefault: Runtime;
let inProcess: Runtime;

beforeAll(async () => {
  if (!existsSync(defaultWorkerPath())) {
    throw new Error(`worker tests need the compiled worker ${defaultWorkerPath()}: run npx tsc -b first`);
  }
  await ensureToyPack(modelsDir);
  byDefault = createRuntime({ inputsDir: ASSETS, modelsDir, providers: ['cpu'], log: () => {} });
  const manager = new ModelManager({ modelsDir, mode: 'in-process', providers: ['cpu'], logger: () => {} });
  inProcess = runtimeWith(manager, modelsDir);
});
afterAll(async () => {
  await byDefault.close();
  await inProcess.close();
  rmSync(modelsDir, { recursive: true, force: true });
});

const edit = workflowDoc(
  'worker-edit',
  [
    ...EDIT_INPUT_NODES,
    { id: 'mask', type: 'GenerateMask', params: { num_inference_steps: 10 } },
    { id: 'invert', type: 'DDIMInvert', params: { num_inference_steps: 10, previews: false } },
    { id: 'denoise', type: 'MaskedDenoise', params: { previews: false } },
    { id: 'show', type: 'ShowValue', params: {} },
  ],
  [...MASK_EDGES, ...INVERT_EDGES, ...DENOISE_EDGES, ['denoise', 'image', 'show', 'value']],
);

describe('DiffEdit nodes with the default model manager', () => {
  it('run every UNet/VAE/text-encoder call in the worker thread, with the in-process numbers', async () => {
    const manager = byDefault.services.get(ModelManagerKey);
    expect(manager.mode).toBe('worker');
    const [worker, local] = [await byDefault.run(edit), await inProcess.run(edit)];
    expect(worker.status, JSON.stringify(worker.issues ?? worker.error)).toBe('done');
    expect(local.status, JSON.stringify(local.error)).toBe('done');

    const sessions = (await manager.providerInfo()).sessions;
    expect(sessions.length).toBeGreaterThanOrEqual(4);
    expect(sessions.map((s) => s.mode)).toEqual(sessions.map(() => 'worker'));

    const mask = (r: typeof worker): number[] => Array.from((r.outputs.mask.mask as Tensor).data);
    expect(mask(worker)).toEqual(mask(local));
    expect(mask(worker).some((v) => v === 1)).toBe(true);
    const latents = (r: typeof worker): Float32Array => (r.outputs.denoise.latents as Tensor).data;
    const [a, b] = [latents(worker), latents(local)];
    expect(a.length).toBe(b.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThanOrEqual(1e-6);
  });
});
