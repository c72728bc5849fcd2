import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Tensor } from '@diffedit/core';
import type { NodeDefinition, ParamValue } from '@diffedit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DDIMInvertNode, GenerateMaskNode, MaskedDenoiseNode, ModelManager } from '@diffedit/nodes';
import type { DiffusionModel } from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';
import { abortingContext, paramsOf, recordingContext } from './node-context.js';

/**
 * Cancelling inside the long DiffEdit nodes: the node itself must stop at the next UNet call once the run's
 * signal aborts (the test context's progress() does not throw, so only the node's own signal handling counts).
 * In-process: the loop program runs on this thread, so the counts show where it stopped.
 */
let manager: ModelManager;
let model: DiffusionModel;
const image = new Tensor([1, 3, 64, 64]);

beforeAll(async () => {
  const modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-cancel-'));
  await writeToyPack(modelsDir);
  manager = new ModelManager({ modelsDir, mode: 'in-process', providers: ['cpu'], logger: () => {} });
  model = await manager.loadDiffusion('toy-sd');
  // a red square on blue
  const plane = 64 * 64;
  for (let y = 0; y < 64; y++)
    for (let x = 0; x < 64; x++) {
      const inside = x >= 16 && x < 48 && y >= 16 && y < 48;
      image.data[y * 64 + x] = inside ? 1 : 0;
      image.data[2 * plane + y * 64 + x] = inside ? 0 : 1;
    }
});
afterAll(() => manager.close());

/**
 * Runs the node with a context whose signal aborts once the node has reported `calls` steps (one UNet call
 * each: the loops run as programs next to the UNet, so the calls are counted by the model); returns how many
 * UNet calls the node made and how many steps it reported.
 */
async function cancelled(
  def: NodeDefinition,
  inputs: (m: DiffusionModel) => Record<string, unknown>,
  params: Record<string, ParamValue>,
  calls: number,
): Promise<{ started: number; steps: number }> {
  const { ctx, progress, controller } = abortingContext(calls);
  const before = model.calls.unet;
  await expect(def.run(ctx, inputs(model), paramsOf(def, params))).rejects.toThrow(/abort/i);
  expect(controller.signal.aborted).toBe(true);
  return { started: model.calls.unet - before, steps: progress.length };
}

describe('cancellation inside the long DiffEdit nodes', () => {
  it('GenerateMask stops between its UNet chunks', async () => {
    // 4 groups × 4 maps in chunks of 1: 16 calls without cancellation
    const { started } = await cancelled(
      GenerateMaskNode,
      (m) => ({ model: m, image, source: 'a red apple', target: 'a green pear' }),
      { num_maps_per_mask: 4, max_batch: 1, num_inference_steps: 10 },
      3,
    );
    expect(started).toBeLessThanOrEqual(4);
  });

  it('DDIMInvert and MaskedDenoise stop at the next step', async () => {
    const invertParams = { num_inference_steps: 20, previews: false };
    const invertInputs = (m: DiffusionModel) => ({ model: m, image, prompt: 'a red apple' });
    const inverting = await cancelled(DDIMInvertNode, invertInputs, invertParams, 3);
    expect(inverting.started).toBeLessThanOrEqual(4); // of 16 steps
    expect(inverting.steps).toBeLessThanOrEqual(3);

    const { ctx } = recordingContext();
    const { inverted } = await DDIMInvertNode.run(
      ctx,
      invertInputs(model),
      paramsOf(DDIMInvertNode, invertParams),
    );
    const mask = Tensor.full([1, 1, 8, 8], 1);
    const denoising = await cancelled(
      MaskedDenoiseNode,
      (m) => ({ model: m, inverted, mask, prompt: 'a green pear' }),
      { previews: false },
      3,
    );
    expect(denoising.started).toBeLessThanOrEqual(4);
    expect(denoising.steps).toBeLessThanOrEqual(3);
  });
});
