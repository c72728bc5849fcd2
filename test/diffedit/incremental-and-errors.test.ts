import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Tensor } from '@diffedit/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createToyRuntime, loadWorkflow, runRecorded, withParams } from './harness.js';
import type { ToyRuntime, WorkflowDoc } from './harness.js';

let toy: ToyRuntime;
beforeAll(async () => {
  toy = await createToyRuntime();
});
afterAll(() => toy.close());

/** The shipped workflows made cheap: a 128² image and 10 steps (the graph is what these tests are about). */
function small(name: string): WorkflowDoc {
  return withParams(loadWorkflow(name), {
    image: { width: 128, height: 128 },
    mask: { num_inference_steps: 10, num_maps_per_mask: 4 },
    invert: { num_inference_steps: 10 },
  });
}

const sorted = (ids: string[]) => [...ids].sort();

describe('incremental re-runs (asserted from node:start events)', () => {
  it('a new target concept re-runs its T5 prompts, EmbedPrompts(target), GenerateMask, MaskedDenoise and what follows — not DDIMInvert', async () => {
    const first = small('diffedit-t5-embeddings.json');
    const initial = await runRecorded(toy.runtime, first);
    expect(initial.ran).toContain('invert');
    const again = await runRecorded(toy.runtime, first);
    expect(again.ran).toEqual([]);

    const changed = await runRecorded(
      toy.runtime,
      withParams(first, { target_concept: { text: 'yellow banana' } }),
    );
    expect(sorted(changed.ran)).toEqual(
      sorted([
        'target_concept',
        'target_instruction',
        'target_prompts',
        'target_embedding',
        'mask',
        'mask_image',
        'denoise',
        'grid',
        'save',
      ]),
    );
    expect(changed.ran).not.toContain('invert');
    expect(changed.ran).not.toContain('source_embedding');
    // the saved file is still emitted
    expect(changed.result.artifacts.map((a) => a.name)).toEqual(['diffedit-t5-embeddings.png']);
  });

  it('a new target prompt re-runs GenerateMask and MaskedDenoise, not DDIMInvert (prompt workflow)', async () => {
    const first = small('diffedit-prompts.json');
    await runRecorded(toy.runtime, first);
    const changed = await runRecorded(
      toy.runtime,
      withParams(first, { target: { text: 'a yellow banana' } }),
    );
    expect(sorted(changed.ran)).toEqual(sorted(['target', 'mask', 'mask_image', 'denoise', 'grid', 'save']));
  });

  it('a new mask_thresholding_ratio re-runs GenerateMask and MaskedDenoise (and their display) only', async () => {
    const first = small('diffedit-prompts.json');
    await runRecorded(toy.runtime, first);
    const changed = await runRecorded(
      toy.runtime,
      withParams(first, { mask: { mask_thresholding_ratio: 2.5 } }),
    );
    expect(sorted(changed.ran)).toEqual(sorted(['mask', 'mask_image', 'denoise', 'grid', 'save']));
    const cached = changed.events.flatMap((e) => (e.type === 'node:cached' ? [e.nodeId] : []));
    expect(cached).toEqual(expect.arrayContaining(['invert', 'image', 'model', 'source', 'target']));
  });
});

describe('bad input gives an error naming node and field', () => {
  async function failure(workflow: unknown) {
    const { result } = await runRecorded(toy.runtime, workflow, { allowFailure: true });
    expect(result.status).toBe('failed');
    return result.error!;
  }

  it('strength 0 in DDIMInvert is refused before anything runs (an exclusive bound)', async () => {
    const { result, ran } = await runRecorded(
      toy.runtime,
      withParams(small('diffedit-prompts.json'), { invert: { inpaint_strength: 0 } }),
      { allowFailure: true },
    );
    expect(result.status).toBe('invalid');
    expect(ran).toEqual([]);
    expect(result.issues).toEqual([
      expect.objectContaining({ nodeId: 'invert', field: 'inpaint_strength', code: 'invalid_param' }),
    ]);
    expect(result.issues![0].message).toMatch(/greater than 0/);
  });

  it('a strength that leaves no step in DDIMInvert fails the node, naming the field', async () => {
    const error = await failure(
      withParams(small('diffedit-prompts.json'), { invert: { inpaint_strength: 0.001 } }),
    );
    expect(error).toMatchObject({ nodeId: 'invert', nodeType: 'DDIMInvert', field: 'inpaint_strength' });
    expect(error.message).toMatch(/0 steps/);
  });

  it('mask_encode_strength too small for the steps in GenerateMask', async () => {
    const error = await failure(
      withParams(small('diffedit-prompts.json'), { mask: { mask_encode_strength: 0.05 } }),
    );
    expect(error).toMatchObject({ nodeId: 'mask', field: 'mask_encode_strength' });
  });

  it('an empty prompt list in EmbedPrompts', async () => {
    const workflow = {
      format: 'diffedit-studio.workflow',
      version: 1,
      name: 'empty list',
      nodes: [
        { id: 'model', type: 'LoadDiffusionModel', params: {} },
        { id: 'list', type: 'TextList', params: { text: '\n\n' } },
        { id: 'embed', type: 'EmbedPrompts', params: {} },
        { id: 'show', type: 'ShowValue', params: {} },
      ],
      edges: [
        { id: 'e1', from: { node: 'model', output: 'model' }, to: { node: 'embed', input: 'model' } },
        { id: 'e2', from: { node: 'list', output: 'list' }, to: { node: 'embed', input: 'prompts' } },
        { id: 'e3', from: { node: 'embed', output: 'embedding' }, to: { node: 'show', input: 'value' } },
      ],
    };
    const error = await failure(workflow);
    expect(error).toMatchObject({ nodeId: 'embed', nodeType: 'EmbedPrompts', field: 'prompts' });
    expect(error.message).toMatch(/empty/);
  });

  it('a missing model', async () => {
    const error = await failure(
      withParams(small('diffedit-prompts.json'), { model: { model: 'no-such-model' } }),
    );
    expect(error).toMatchObject({ nodeId: 'model', field: 'model' });
    expect(error.message).toContain('no-such-model');
  });

  it('a missing image file', async () => {
    const error = await failure(
      withParams(small('diffedit-prompts.json'), { image: { image: 'assets/missing.png' } }),
    );
    expect(error).toMatchObject({ nodeId: 'image', field: 'image' });
    expect(error.message).toContain('missing.png');
  });

  it('an unreadable image file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diffedit-bad-'));
    writeFileSync(join(dir, 'broken.png'), 'not a png');
    const workflow = withParams(small('diffedit-prompts.json'), {
      image: { image: join(dir, 'broken.png') },
    });
    const error = await failure(workflow);
    expect(error).toMatchObject({ nodeId: 'image', nodeType: 'LoadImage', field: 'image' });
    expect(error.message).toContain('broken.png');
  });

  it('a painted mask of the wrong size is resized to the latent grid and works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diffedit-mask-'));
    // 128² painting (the image size, not the 16² latent size): right half white
    const raw = Buffer.alloc(128 * 128);
    for (let y = 0; y < 128; y++) raw.fill(255, y * 128 + 64, y * 128 + 128);
    await sharp(raw, { raw: { width: 128, height: 128, channels: 1 } })
      .png()
      .toFile(join(dir, 'half.png'));
    const base = small('diffedit-prompts.json');
    const workflow: WorkflowDoc = {
      ...base,
      nodes: [
        ...base.nodes.filter((n) => n.id !== 'mask'),
        { id: 'mask', type: 'LoadMask', params: { mask: join(dir, 'half.png') } },
      ],
      edges: base.edges.filter((e) => !(e.to.node === 'mask')),
    };
    const { result } = await runRecorded(toy.runtime, workflow);
    const [, , h, w] = (result.outputs.invert.inverted as { latents: { dims: number[] } }).latents.dims.slice(
      1,
    );
    expect([h, w]).toEqual([16, 16]);
    expect(result.artifacts).toHaveLength(1);
    // only the painted (right) half changed: the apple's left half keeps its colour
    const edited = result.outputs.denoise.image as Tensor;
    const original = result.outputs.image.image as Tensor;
    const meanDiff = (x0: number, x1: number) => {
      let sum = 0;
      let n = 0;
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 128; y++)
          for (let x = x0; x < x1; x++) {
            const i = c * 128 * 128 + y * 128 + x;
            sum += Math.abs(edited.data[i] - original.data[i]);
            n++;
          }
      return sum / n;
    };
    expect(meanDiff(0, 56)).toBeLessThan(0.04);
    expect(meanDiff(72, 128)).toBeGreaterThan(0.1);
  });
});
