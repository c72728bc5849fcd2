import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { NodeInputError, Tensor } from '@diffedit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CaptionBLIPNode,
  DDIMInvertNode,
  GenerateMaskNode,
  MaskedDenoiseNode,
  ModelManager,
  PromptT5Node,
} from '@diffedit/nodes';
import type { DiffusionModel, InvertedLatents } from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';
import { paramsOf, recordingContext } from './node-context.js';

/** Inputs of the DiffEdit nodes run directly: what is refused, fitted or warned about. 64² image → 8² latents. */
let manager: ModelManager;
let model: DiffusionModel;
let inverted: InvertedLatents;
const image = new Tensor([1, 3, 64, 64]);

beforeAll(async () => {
  const modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-mask-input-'));
  await writeToyPack(modelsDir);
  manager = new ModelManager({ modelsDir, mode: 'in-process', providers: ['cpu'], logger: () => {} });
  model = await manager.loadDiffusion('toy-sd');
  // a red square (the centre 4×4 latent cells) on black
  for (let y = 16; y < 48; y++) for (let x = 16; x < 48; x++) image.data[y * 64 + x] = 1;
  const { ctx } = recordingContext();
  const params = paramsOf(DDIMInvertNode, { num_inference_steps: 10, previews: false });
  const out = await DDIMInvertNode.run(ctx, { model, image, prompt: 'a red apple' }, params);
  inverted = out.inverted as InvertedLatents;
});
afterAll(() => manager.close());

async function denoise(mask: Tensor, params: Record<string, number> = {}) {
  const { ctx, userWarnings } = recordingContext();
  const warnings = userWarnings;
  const inputs = { model, inverted, mask, prompt: 'a green pear', negative: 'a red apple' };
  const out = await MaskedDenoiseNode.run(
    ctx,
    inputs,
    paramsOf(MaskedDenoiseNode, { previews: false, ...params }),
  );
  return { latents: out.latents as Tensor, warnings };
}

/** The centre 4×4 latent cells, at any resolution that is a multiple of 8. */
function centreSquare(width: number, height: number): Tensor {
  const mask = new Tensor([1, 1, height, width]);
  for (let y = height / 4; y < (3 * height) / 4; y++)
    for (let x = width / 4; x < (3 * width) / 4; x++) mask.data[y * width + x] = 1;
  return mask;
}

describe('MaskedDenoise mask input', () => {
  it('refuses a batch of masks, naming node and field', async () => {
    const error = await denoise(new Tensor([2, 1, 8, 8])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeInputError);
    expect(error).toMatchObject({ field: 'mask' });
    expect((error as Error).message).toMatch(/MaskedDenoise: mask holds 2 masks/);
  });

  it('fits an image-size mask to the latent grid: the same edit as the latent-size mask, no warning', async () => {
    const small = await denoise(centreSquare(8, 8));
    const large = await denoise(centreSquare(64, 64));
    expect(small.warnings).toEqual([]);
    expect(large.warnings).toEqual([]);
    expect(Array.from(large.latents.data)).toEqual(Array.from(small.latents.data));
  });

  it('warns when the mask is stretched to other proportions, and when it is empty (the result is the level-1 latent, P6)', async () => {
    const stretched = await denoise(centreSquare(16, 8));
    expect(stretched.warnings).toEqual([
      {
        code: 'mask_stretched',
        field: 'mask',
        message: expect.stringMatching(/mask \(16×8\) has other proportions than the latents \(8×8\)/),
      },
    ]);

    const empty = await denoise(new Tensor([1, 1, 8, 8]));
    expect(empty.warnings).toEqual([
      { code: 'mask_empty', field: 'mask', message: expect.stringMatching(/mask is empty/) },
    ]);
    const [, s, c, h, w] = inverted.latents.dims;
    const level1 = inverted.latents.data.subarray((s - 1) * c * h * w, s * c * h * w);
    expect(Array.from(empty.latents.data)).toEqual(Array.from(level1));
  });
});

describe('MaskedDenoise eta', () => {
  it('η > 0 adds seeded noise: reproducible per seed, another seed or η = 0 gives another result', async () => {
    const latents = async (params: Record<string, number>) =>
      Array.from((await denoise(centreSquare(8, 8), params)).latents.data);
    const noisy = await latents({ eta: 0.5, seed: 1 });
    expect(await latents({ eta: 0.5, seed: 1 })).toEqual(noisy);
    expect(await latents({ eta: 0.5, seed: 2 })).not.toEqual(noisy);
    expect(await latents({ eta: 0 })).not.toEqual(noisy);
  });
});

describe('prompt inputs and guidance', () => {
  it('refuses an embedding of another text width, naming node and field', async () => {
    const { ctx } = recordingContext();
    const foreign = new Tensor([1, 77, 3]);
    const params = paramsOf(DDIMInvertNode, { num_inference_steps: 10, previews: false });
    const error = await DDIMInvertNode.run(ctx, { model, image, prompt: foreign }, params).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NodeInputError);
    expect(error).toMatchObject({ field: 'prompt' });
    expect((error as Error).message).toMatch(/^DDIMInvert: embedding prompt has shape \[1, 77, 3\]/);
  });

  it('GenerateMask works without guidance (mask_guidance_scale ≤ 1, where diffusers crashes, P7)', async () => {
    const maskAt = async (g: number) => {
      const { ctx } = recordingContext();
      const inputs = { model, image, source: 'a red apple', target: 'a green pear' };
      const params = paramsOf(GenerateMaskNode, { mask_guidance_scale: g, num_inference_steps: 10 });
      return Array.from(((await GenerateMaskNode.run(ctx, inputs, params)) as { mask: Tensor }).mask.data);
    };
    const unguided = await maskAt(1);
    // spec §5: with equal negatives the guided difference is (1 − g)·Δpos, and the factor cancels in the threshold
    expect(unguided).toEqual(await maskAt(7.5));
    expect([unguided[3 * 8 + 3], unguided[4 * 8 + 4], unguided[0], unguided[63]]).toEqual([1, 1, 0, 0]);
  });
});

describe('text nodes', () => {
  it('CaptionBLIP and PromptT5 report progress per decoded token', async () => {
    const blip = recordingContext();
    const caption = await CaptionBLIPNode.run(
      blip.ctx,
      { model: await manager.loadBlip('toy-blip'), image },
      paramsOf(CaptionBLIPNode),
    );
    expect(caption.caption).toMatch(/^a photograph of /);
    const t5 = recordingContext();
    const instruction = 'Provide a caption for images containing a green pear.';
    const { prompts } = await PromptT5Node.run(
      t5.ctx,
      { model: await manager.loadT5('toy-flan-t5'), instruction },
      paramsOf(PromptT5Node, { num_return_sequences: 4 }),
    );
    expect(prompts).toHaveLength(4);
    for (const { progress } of [blip, t5]) {
      expect(progress.length).toBeGreaterThan(2);
      expect(progress.map((p) => p.step)).toEqual(progress.map((_, i) => i + 1));
      expect(new Set(progress.map((p) => p.total))).toEqual(new Set([128]));
    }
  });
});
