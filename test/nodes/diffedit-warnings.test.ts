// The silent no-ops of a DiffEdit edit now warn (ctx.warn → node:warning, RunResult.warnings, report.json),
// naming the node's field in the user's words. One test per warning, on the toy pack.
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { InputsFolderKey, ServiceRegistry, Tensor } from '@diffedit/core';
import type { NodeWarningInit } from '@diffedit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  DDIMInvertNode,
  EmbedPromptsNode,
  GenerateMaskNode,
  MaskedDenoiseNode,
  maskWarnings,
  ModelManager,
  ModelManagerKey,
} from '@diffedit/nodes';
import type { DiffusionModel, InvertedLatents } from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';

import { runCliCaptured } from '../../apps/runtime/test/capture-cli.js';
import { paramsOf, recordingContext } from './node-context.js';

let modelsDir: string;
let manager: ModelManager;
let model: DiffusionModel;
let inverted: InvertedLatents;
const image = new Tensor([1, 3, 64, 64]);
const repo = new URL('../../', import.meta.url).pathname;

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-warnings-'));
  await writeToyPack(modelsDir);
  manager = new ModelManager({ modelsDir, mode: 'in-process', providers: ['cpu'], logger: () => {} });
  model = await manager.loadDiffusion('toy-sd');
  for (let y = 16; y < 48; y++) for (let x = 16; x < 48; x++) image.data[y * 64 + x] = 1; // a red square
  const { ctx } = recordingContext();
  const out = await DDIMInvertNode.run(
    ctx,
    { model, image, prompt: 'a red apple' },
    paramsOf(DDIMInvertNode, { num_inference_steps: 10, previews: false }),
  );
  inverted = out.inverted as InvertedLatents;
});
afterAll(() => manager.close());

/** Runs one node directly (cheap settings) and returns what it raised with ctx.warn. */
async function warningsOf(
  node: typeof GenerateMaskNode | typeof DDIMInvertNode | typeof MaskedDenoiseNode | typeof EmbedPromptsNode,
  inputs: Record<string, unknown>,
  params: Record<string, number | boolean> = {},
): Promise<NodeWarningInit[]> {
  const { ctx, userWarnings } = recordingContext();
  const cheap: Record<string, number | boolean> =
    node === GenerateMaskNode
      ? { num_inference_steps: 10, num_maps_per_mask: 2 }
      : node === EmbedPromptsNode
        ? {}
        : { previews: false };
  const run = node.run as (ctx: unknown, inputs: unknown, params: unknown) => Promise<unknown>;
  await run(ctx, { model, ...inputs }, paramsOf(node, { ...cheap, ...params }));
  return userWarnings;
}

const longPrompt =
  'a photo of a ' + Array.from({ length: 90 }, (_, i) => `word${i}`).join(' ') + ' and finally a green pear';

describe('warnings of the DiffEdit nodes', () => {
  it('GenerateMask: target equal to the source (up to case and spaces)', async () => {
    const warnings = await warningsOf(GenerateMaskNode, {
      image,
      source: 'a red apple',
      target: ' A red  apple ',
    });
    expect(warnings).toEqual([
      { code: 'same_prompts', field: 'target', message: expect.stringContaining('nothing will be edited') },
    ]);
    expect(
      await warningsOf(GenerateMaskNode, { image, source: 'a red apple', target: 'a green pear' }),
    ).toEqual([]);
  });

  it('an empty or whitespace prompt, on the field that has it (an empty negative is fine)', async () => {
    const mask = await warningsOf(GenerateMaskNode, { image, source: 'a red apple', target: ' \t' });
    expect(mask).toContainEqual({
      code: 'empty_prompt',
      field: 'target',
      message: expect.stringContaining('empty'),
    });
    const invert = await warningsOf(
      DDIMInvertNode,
      { image, prompt: '', negative: '' },
      { num_inference_steps: 10 },
    );
    expect(invert).toEqual([
      {
        code: 'empty_prompt',
        field: 'prompt',
        message: expect.stringContaining('the prompt is empty'),
      },
    ]);
    const list = await warningsOf(EmbedPromptsNode, { prompts: ['a red apple', '  '] });
    expect(list).toEqual([
      { code: 'empty_prompt', field: 'prompts', message: '1 of the 2 prompts in prompts are empty' },
    ]);
  });

  it('counts a prompt’s tokens as its tokenizer does, remembered or not', () => {
    // past the memo's 256 texts, so that it starts over at least once
    const texts = Array.from({ length: 600 }, (_, i) => `${'a red apple '.repeat(i % 40)}${i}`);
    for (const pass of [0, 1]) {
      for (const text of pass === 0 ? texts : [...texts].reverse()) {
        expect(model.promptTokenCount(text)).toBe(model.tokenizer.encode(text).length);
      }
    }
  });

  it('a prompt longer than the text encoder’s 77 tokens is truncated: the warning quotes the lost end', async () => {
    expect(model.maxLength).toBe(77);
    expect(model.promptTokenCount(longPrompt)).toBeGreaterThan(77);
    const warnings = await warningsOf(MaskedDenoiseNode, {
      inverted,
      mask: centre(8),
      prompt: longPrompt,
      negative: 'a red apple',
    });
    expect(warnings).toEqual([
      {
        code: 'prompt_truncated',
        field: 'prompt',
        message: expect.stringMatching(/the prompt is \d+ tokens long, but the text encoder reads only 77/),
      },
    ]);
    expect(warnings[0].message).toContain('("…finally a green pear") is ignored');
  });

  it('MaskedDenoise: a mask covering more than 90 % of the image', async () => {
    const full = new Tensor([1, 1, 8, 8]);
    full.data.fill(1);
    const warnings = await warningsOf(MaskedDenoiseNode, { inverted, mask: full, prompt: 'a green pear' });
    expect(warnings).toEqual([
      {
        code: 'mask_nearly_full',
        field: 'mask',
        message: expect.stringContaining('covers 100 % of the image'),
      },
    ]);
    expect(
      await warningsOf(MaskedDenoiseNode, { inverted, mask: centre(8), prompt: 'a green pear' }),
    ).toEqual([]);
  });

  it('a mask covering less than 1 % of the image (and none of it)', () => {
    const speck = new Tensor([1, 1, 16, 16]);
    speck.data[0] = 1; // 1 of 256 cells: 0.4 %
    expect(maskWarnings(speck, speck)).toEqual([
      { code: 'mask_nearly_empty', field: 'mask', message: expect.stringContaining('covers only 0.4 %') },
    ]);
    const some = new Tensor([1, 1, 16, 16]);
    some.data.fill(1, 0, 4); // 1.6 %
    expect(maskWarnings(some, some)).toEqual([]);
    const none = new Tensor([1, 1, 16, 16]);
    expect(maskWarnings(none, none).map((w) => w.code)).toEqual(['mask_empty']);
  });

  it('DDIMInvert: num_inference_steps × inpaint_strength leaving fewer than 3 denoising steps', async () => {
    const few = await warningsOf(
      DDIMInvertNode,
      { image, prompt: 'a red apple' },
      { num_inference_steps: 10, inpaint_strength: 0.2 },
    );
    expect(few).toEqual([
      {
        code: 'too_few_steps',
        field: 'num_inference_steps',
        message: expect.stringContaining('leaves 2 denoising step(s)'),
      },
    ]);
    const enough = await warningsOf(
      DDIMInvertNode,
      { image, prompt: 'a red apple' },
      { num_inference_steps: 10, inpaint_strength: 0.3 },
    );
    expect(enough).toEqual([]);
  });
});

describe('warnings through the CLI', () => {
  it('a DiffEdit workflow whose target equals its source: exit 0, warnings on stderr and in report.json', async () => {
    const out = mkdtempSync(join(tmpdir(), 'diffedit-warnings-out-'));
    const workflows = join(repo, 'workflows');
    const services = new ServiceRegistry()
      .set(InputsFolderKey, { root: workflows, resolve: (p: string) => join(workflows, p) })
      .set(ModelManagerKey, manager);
    const sets = [
      'image.width=64',
      'image.height=64',
      'mask.num_inference_steps=4',
      'mask.num_maps_per_mask=2',
      'invert.num_inference_steps=4',
      'target.text=a red apple',
    ];
    const { code, stderr } = await runCliCaptured(
      ['run', join(workflows, 'diffedit-prompts.json'), '--out', out, ...sets.flatMap((s) => ['--set', s])],
      { runtimeOptions: { services, modelsDir } },
    );
    expect(code).toBe(0);
    expect(stderr).toContain('⚠ warning: mask (GenerateMask) › target: the target is the same as the source');
    expect(stderr).toMatch(/⚠ \d+ warning\(s\): the run finished, but check these:/);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.warnings).toContainEqual(
      expect.objectContaining({
        nodeId: 'mask',
        nodeType: 'GenerateMask',
        code: 'same_prompts',
        field: 'target',
      }),
    );
  });
});

function centre(size: number): Tensor {
  const mask = new Tensor([1, 1, size, size]);
  for (let y = size / 4; y < (3 * size) / 4; y++)
    for (let x = size / 4; x < (3 * size) / 4; x++) mask.data[y * size + x] = 1;
  return mask;
}
