import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { RunEvent, Tensor } from '@diffedit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeImage, listNodes, ModelManager } from '@diffedit/nodes';
import type { InvertedLatents } from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';
import { runtimeWith } from './toy-runtime.js';
import { DENOISE_EDGES, EDIT_INPUT_NODES, INVERT_EDGES, MASK_EDGES, workflowDoc } from './workflow-doc.js';

let manager: ModelManager;
let modelsDir: string;

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-nodes-'));
  await writeToyPack(modelsDir);
  manager = new ModelManager({ modelsDir, mode: 'in-process', providers: ['cpu'], logger: () => {} });
});
afterAll(() => manager.close());

describe('catalog entries', () => {
  it('carry diffusers’ parameter names and defaults', () => {
    const byType = new Map(listNodes().map((n) => [n.type, n]));
    const defaults = (type: string) =>
      Object.fromEntries(byType.get(type)!.params.map((p) => [p.name, p.default]));
    expect(defaults('GenerateMask')).toMatchObject({
      num_maps_per_mask: 10,
      mask_encode_strength: 0.5,
      mask_guidance_scale: 7.5,
      mask_thresholding_ratio: 3,
      num_inference_steps: 50,
    });
    expect(defaults('DDIMInvert')).toMatchObject({
      inpaint_strength: 0.8,
      guidance_scale: 7.5,
      num_inference_steps: 50,
      decode_latents: false,
      num_reg_steps: 0,
      lambda_auto_corr: 20,
      lambda_kl: 20,
      num_auto_corr_rolls: 5,
    });
    expect(defaults('MaskedDenoise')).toMatchObject({ guidance_scale: 7.5, eta: 0 });
    expect(defaults('PromptT5')).toMatchObject({
      temperature: 0.8,
      top_k: 10,
      num_return_sequences: 16,
      max_new_tokens: 128,
    });
    expect(defaults('CaptionBLIP')).toMatchObject({ prompt: 'a photograph of', max_new_tokens: 128 });
    expect(defaults('LoadDiffusionModel')).toEqual({ model: 'toy-sd' });
    expect(defaults('LoadT5')).toEqual({ model: 'toy-flan-t5' });
    expect(defaults('LoadBLIP')).toEqual({ model: 'toy-blip' });
    const source = byType.get('GenerateMask')!.inputs.find((i) => i.name === 'source');
    expect(source).toMatchObject({ types: ['TEXT', 'EMBEDDING'], required: true });
  });
});

describe('DiffEdit nodes on the toy pack', () => {
  it('stream throttled latent previews during DDIMInvert and MaskedDenoise, and decode_latents decodes every level', async () => {
    // every step's progress event reaches the listener (the executor's own throttle is off here)
    const runtime = runtimeWith(manager, modelsDir, { progressIntervalMs: 0 });
    const workflow = workflowDoc(
      'previews',
      [
        ...EDIT_INPUT_NODES,
        { id: 'mask', type: 'GenerateMask', params: { num_inference_steps: 20 } },
        { id: 'invert', type: 'DDIMInvert', params: { num_inference_steps: 20, decode_latents: true } },
        { id: 'denoise', type: 'MaskedDenoise', params: {} },
        { id: 'levels', type: 'PreviewImage', params: {} },
        { id: 'save', type: 'SaveImage', params: {} },
      ],
      [
        ...MASK_EDGES,
        ...INVERT_EDGES,
        ...DENOISE_EDGES,
        ['invert', 'images', 'levels', 'image'],
        ['denoise', 'image', 'save', 'image'],
      ],
    );
    const events: RunEvent[] = [];
    const result = await runtime.run(workflow, { onEvent: (e) => events.push(e) });
    expect(result.status, JSON.stringify(result.error)).toBe('done');
    for (const node of ['invert', 'denoise']) {
      const progress = events.filter((e) => e.type === 'node:progress' && e.nodeId === node);
      // the executor throttles progress: steps go up, the first and the last are always there
      const steps = progress.map((e) => (e.type === 'node:progress' ? e.step : 0));
      expect(steps[0]).toBe(1);
      expect(steps.at(-1)).toBe(16);
      expect(steps).toEqual([...new Set(steps)].sort((a, b) => a - b));
      const previews = progress.flatMap((e) => (e.type === 'node:progress' && e.preview ? [e.preview] : []));
      expect(previews.length).toBeGreaterThanOrEqual(2); // the first and the last step at least
      expect(previews.length).toBeLessThanOrEqual(16);
      const last = previews.at(-1)!;
      const image = await decodeImage(last.bytes, { multiple: 1 }, 'preview');
      expect([image.width, image.height]).toEqual([last.width, last.height]);
    }
    // previews come from a latent → RGB map fitted when the image was encoded (no VAE decode): the first
    // inversion preview shows the image (red apple centre, blue corner); the last denoising one shows the edit
    // (the apple's centre is no longer pure red)
    const previewOf = async (node: string, pick: 'first' | 'last') => {
      const progress = events.filter((e) => e.type === 'node:progress' && e.nodeId === node && e.preview);
      const event = pick === 'first' ? progress[0] : progress.at(-1);
      const bytes = event?.type === 'node:progress' ? event.preview!.bytes : new Uint8Array();
      const shown = await decodeImage(bytes, { multiple: 1 }, 'preview');
      const centre = ((shown.height >> 1) * shown.width + (shown.width >> 1)) * 3;
      return { centre: [...shown.data.subarray(centre, centre + 3)], corner: [...shown.data.subarray(0, 3)] };
    };
    const before = await previewOf('invert', 'first');
    expect(before.centre[0]).toBeGreaterThan(0.9);
    expect(before.centre[2]).toBeLessThan(0.1);
    expect(before.corner[2]).toBeGreaterThan(0.9);
    expect(before.corner[0]).toBeLessThan(0.1);
    const after = await previewOf('denoise', 'last');
    expect(after.centre[0]).toBeLessThan(before.centre[0] - 0.2);
    // decode_latents: 16 levels, noisiest first, shown by PreviewImage
    expect(result.artifacts.filter((a) => a.nodeId === 'levels')).toHaveLength(16);
  });

  it('chunk the mask UNet batch by max_batch without changing the mask; regularised inversion runs and differs', async () => {
    const runtime = runtimeWith(manager, modelsDir);
    const graph = (mask: Record<string, unknown>, invert: Record<string, unknown>) =>
      workflowDoc(
        'chunks',
        [
          ...EDIT_INPUT_NODES,
          { id: 'mask', type: 'GenerateMask', params: { num_inference_steps: 10, ...mask } },
          {
            id: 'invert',
            type: 'DDIMInvert',
            params: { num_inference_steps: 10, previews: false, ...invert },
          },
          { id: 'shown', type: 'MaskToImage', params: {} },
          { id: 'save', type: 'PreviewImage', params: {} },
          { id: 'show', type: 'ShowValue', params: {} },
        ],
        [
          ...MASK_EDGES,
          ['mask', 'mask', 'shown', 'mask'],
          ['shown', 'image', 'save', 'image'],
          ...INVERT_EDGES,
          ['invert', 'inverted', 'show', 'value'],
        ],
      );
    const one = await runtime.run(graph({ max_batch: 1 }, {}));
    const all = await runtime.run(graph({ max_batch: 40 }, { num_reg_steps: 1 }));
    expect(one.status, JSON.stringify(one.error)).toBe('done');
    expect(all.status, JSON.stringify(all.error)).toBe('done');
    const maskOf = (r: typeof one) => Array.from((r.outputs.mask.mask as Tensor).data);
    expect(maskOf(one)).toEqual(maskOf(all));
    expect(maskOf(one).filter((v) => v === 1).length).toBeGreaterThan(10);
    const latents = (r: typeof one) => (r.outputs.invert.inverted as InvertedLatents).latents.data;
    const plain = latents(one);
    const regularised = latents(all);
    expect(regularised.every(Number.isFinite)).toBe(true);
    let diff = 0;
    for (let i = 0; i < plain.length; i++) diff = Math.max(diff, Math.abs(plain[i] - regularised[i]));
    expect(diff).toBeGreaterThan(1e-3);
  });
});
