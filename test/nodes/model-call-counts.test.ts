import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { InputsFolderKey, ServiceRegistry } from '@diffedit/core';
import type { RunEvent, Tensor } from '@diffedit/core';
import { createRuntime } from '@diffedit/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { forgetRememberedSourceRows, ModelManager, ModelManagerKey } from '@diffedit/nodes';
import type { ModelCallCounts } from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';

// The shipped default workflow, at 128² and 10 steps so the suite stays quick; the counts do not depend on speed.
const WORKFLOWS = resolve(import.meta.dirname, '../../workflows');
const STEPS = 10;

type Doc = { nodes: { id: string; type: string; params: Record<string, unknown> }[] };

function defaultWorkflow(target = 'a green pear'): Doc {
  const doc = JSON.parse(readFileSync(join(WORKFLOWS, 'diffedit-prompts.json'), 'utf8')) as Doc;
  for (const node of doc.nodes) {
    if (node.type === 'LoadImage') Object.assign(node.params, { width: 128, height: 128 });
    if (node.type === 'GenerateMask' || node.type === 'DDIMInvert') node.params.num_inference_steps = STEPS;
    if (node.id === 'target') node.params.text = target;
  }
  return doc;
}

let modelsDir: string;

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-calls-'));
  await writeToyPack(modelsDir);
});

describe.each(['in-process', 'worker'] as const)(
  'model calls of the default DiffEdit workflow (%s)',
  (mode) => {
    let manager: ModelManager;
    beforeAll(() => {
      manager = new ModelManager({ modelsDir, mode, providers: ['cpu'], logger: () => {} });
    });
    afterAll(() => manager.close());

    it('encode the image once, each distinct prompt once, and reuse both across runs', async () => {
      const services = new ServiceRegistry()
        .set(InputsFolderKey, { root: WORKFLOWS, resolve: (p: string) => resolve(WORKFLOWS, p) })
        .set(ModelManagerKey, manager);
      const runtime = createRuntime({ services, inputsDir: WORKFLOWS, modelsDir });
      const model = await manager.loadDiffusion('toy-sd');
      const since = (before: ModelCallCounts) => ({
        textEncoder: model.calls.textEncoder - before.textEncoder,
        unet: model.calls.unet - before.unet,
        vaeEncoder: model.calls.vaeEncoder - before.vaeEncoder,
        vaeDecoder: model.calls.vaeDecoder - before.vaeDecoder,
      });
      const run = async (doc: Doc, on = runtime) => {
        const before = { ...model.calls };
        const events: RunEvent[] = [];
        const result = await on.run(doc, { onEvent: (e) => events.push(e) });
        expect(result.status, JSON.stringify(result.error)).toBe('done');
        const ran = events.flatMap((e) => (e.type === 'node:start' ? [e.nodeId] : []));
        const mask = result.outputs.mask?.mask as Tensor;
        const latents = result.outputs.denoise?.latents as Tensor;
        return { calls: since(before), ran, mask, latents };
      };
      // 40 mask rows (4 prompt slots × 10 maps): the source half (20 rows) in calls of max_batch 16, then the
      // target's own 10 rows (the target negative's are the source negative's: both ""); inpaint_strength 0.8
      // of 10 steps = 8 inversion steps, and as many denoising steps, one batch-2 (CFG) call each
      const targetCalls = Math.ceil(10 / 16);
      const maskCalls = Math.ceil(20 / 16) + targetCalls;
      const editSteps = 8;

      const cold = await run(defaultWorkflow());
      expect(cold.calls).toEqual({
        textEncoder: 3, // "a red apple", "" and "a green pear"
        unet: maskCalls + 2 * editSteps,
        vaeEncoder: 1, // VAEEncode feeds GenerateMask and DDIMInvert
        vaeDecoder: 1, // the edited image; previews need no decode
      });

      const unchanged = await run(defaultWorkflow());
      expect(unchanged.calls).toEqual({ textEncoder: 0, unet: 0, vaeEncoder: 0, vaeDecoder: 0 });
      expect(unchanged.ran).toEqual([]);

      const newTarget = await run(defaultWorkflow('a yellow banana'));
      expect(newTarget.calls).toEqual({
        textEncoder: 1, // only the new prompt: GenerateMask's source and "" come from the model's memo
        // the mask's target half (its source half is remembered) and the denoising again, not the inversion
        unet: targetCalls + editSteps,
        vaeEncoder: 0,
        vaeDecoder: 1,
      });
      expect(newTarget.ran).not.toContain('invert');

      // the same workflow cold (a fresh output cache, GenerateMask's remembered source half forgotten): both
      // halves of the mask again, and the very bits the re-run gave
      forgetRememberedSourceRows();
      const fresh = await run(
        defaultWorkflow('a yellow banana'),
        createRuntime({ services, inputsDir: WORKFLOWS, modelsDir }),
      );
      expect(fresh.calls.unet).toBe(maskCalls + 2 * editSteps);
      expect(fresh.mask.data).toEqual(newTarget.mask.data);
      expect(fresh.latents.data).toEqual(newTarget.latents.data);
      // (a mask with something to compare: neither empty nor whole)
      const repainted = newTarget.mask.data.reduce((a, b) => a + b, 0);
      expect(repainted).toBeGreaterThan(0);
      expect(repainted).toBeLessThan(newTarget.mask.size);
      expect(newTarget.latents.data).not.toEqual(cold.latents.data);
    });
  },
);
