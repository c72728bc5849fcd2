import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

import { InputsFolderKey, ServiceRegistry } from '@diffedit/core';
import { decodeImage, InProcessBackend, ModelManager, ModelManagerKey } from '@diffedit/nodes';
import type { ModelSession } from '@diffedit/nodes';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { runCliCaptured } from '../../apps/runtime/test/capture-cli.js';
import {
  copyExports,
  MODEL_EXPORTS,
  REAL_EXPORTS,
} from '../../packages/nodes/test/models/fixtures/real-exports.js';
import {
  writeFp16Export,
  writeInGraphPosteriorExport,
} from '../../packages/nodes/test/models/fixtures/real-export-variants.js';
import { WORKFLOWS } from './harness.js';

// The shipped workflows end to end through the CLI on real (tiny, random-weight) optimum / torch.onnx exports.
// Random weights make the pixels meaningless: what is checked is that every node runs on the real layouts,
// the shapes, the determinism for a fixed seed, and how often each ONNX file is called.
let modelsDir: string;
let manager: ModelManager;
const calls = new Map<string, number>();

beforeAll(() => {
  modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-real-models-'));
  copyExports(modelsDir, MODEL_EXPORTS);
  writeFp16Export(join(modelsDir, 'sd21-fp16'));
  writeInGraphPosteriorExport(join(modelsDir, 'sd21-sampling'));
  const open = InProcessBackend.prototype.open;
  vi.spyOn(InProcessBackend.prototype, 'open').mockImplementation(async function (
    this: InProcessBackend,
    path,
    options,
  ): Promise<ModelSession> {
    const session = await open.call(this, path, options);
    const file = relative(modelsDir, path);
    const count = (): void => void calls.set(file, (calls.get(file) ?? 0) + 1);
    const link = session.link;
    return {
      ...session,
      run: (feeds, runOptions) => {
        count();
        return session.run(feeds, runOptions);
      },
      // the sampling loops call the UNet inside a program, which reports each call through the link
      ...(link === undefined
        ? {}
        : {
            link: {
              ...link,
              onCall: (call) => {
                count();
                link.onCall(call);
              },
            },
          }),
    };
  });
  manager = new ModelManager({ modelsDir, mode: 'in-process', providers: ['cpu'], logger: () => {} });
});
afterAll(async () => {
  await manager.close();
  vi.restoreAllMocks();
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // the CLI's own commands, with in-process inference (vitest runs the TS sources, not the built worker)
  const services = new ServiceRegistry()
    .set(InputsFolderKey, { root: WORKFLOWS, resolve: (p: string) => resolve(WORKFLOWS, p) })
    .set(ModelManagerKey, manager);
  return runCliCaptured(args, { runtimeOptions: { services, modelsDir } });
}

const SMALL = [
  'image.width=64',
  'image.height=64',
  'mask.num_inference_steps=10',
  'invert.num_inference_steps=10',
];

async function runTwice(
  workflow: string,
  sets: string[],
): Promise<{ grid: Awaited<ReturnType<typeof decodeImage>>; calls: Record<string, number> }> {
  const grids: Buffer[] = [];
  let counted: Record<string, number> = {};
  for (let i = 0; i < 2; i++) {
    await manager.release();
    calls.clear();
    const out = mkdtempSync(join(tmpdir(), `diffedit-real-${workflow}-`));
    const args = ['run', join(WORKFLOWS, `${workflow}.json`), '--out', out];
    const { code, stderr } = await cli([...args, ...[...SMALL, ...sets].flatMap((s) => ['--set', s])]);
    expect(stderr).not.toMatch(/✗/);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { status: string };
    expect(report.status).toBe('done');
    grids.push(readFileSync(join(out, `${workflow}.png`)));
    if (i === 0) counted = Object.fromEntries([...calls].sort());
    else expect(Object.fromEntries([...calls].sort())).toEqual(counted);
  }
  // a fixed seed gives the same picture, byte for byte, with freshly opened sessions
  expect(grids[1].equals(grids[0])).toBe(true);
  const grid = await decodeImage(grids[0], { multiple: 1 }, workflow);
  expect([grid.width, grid.height]).toEqual([3 * 64, 64]);
  return { grid, calls: counted };
}

// What DiffEdit calls, per node (defaults: GenerateMask max_batch 16):
// - text encoder, one call per distinct text (the model remembers embeddings): "a red apple", "" and
//   "a green pear"; an embedding input needs the empty prompt's embedding to check its shape (remembered
//   too); EmbedPrompts one call per list;
// - UNet: GenerateMask 4 × 10 maps = 40 rows: the source half of 20 in chunks of 16 (2 calls), the target's own
//   10 rows (1 call; the target negative's rows are the source negative's, both ""); DDIMInvert and
//   MaskedDenoise 10 steps × strength 0.8 = 8 calls each (the CFG pair is one batch);
// - VAE encoder: once (VAEEncode, shared by GenerateMask and DDIMInvert); VAE decoder: the result once (the
//   previews' colour map is fitted from the encoded image, where a probe decode used to measure it).
const SD_CALLS = { text: 3, unet: 3 + 8 + 8, vaeEncode: 1, vaeDecode: 1 };

describe.each(['sd21-tiny', 'sd15-tiny', 'sd-tiny-external-data', 'sd21-fp16'])(
  'diffedit-prompts on %s via the CLI',
  (model) => {
    it('completes, is deterministic for a fixed seed, and calls each component as DiffEdit does', async () => {
      const { calls: counted } = await runTwice('diffedit-prompts', [`model.model=${model}`]);
      expect(counted).toEqual({
        [`${model}/text_encoder/model.onnx`]: SD_CALLS.text,
        [`${model}/unet/model.onnx`]: SD_CALLS.unet,
        [`${model}/vae_encoder/model.onnx`]: SD_CALLS.vaeEncode,
        [`${model}/vae_decoder/model.onnx`]: SD_CALLS.vaeDecode,
      });
    });
  },
);

describe('diffedit-prompts on an export that samples its posterior in the graph (latent_sample)', () => {
  it('completes, warning once in GenerateMask and once in DDIMInvert that the seed cannot fix the draws', async () => {
    calls.clear();
    const out = mkdtempSync(join(tmpdir(), 'diffedit-real-sampling-'));
    const sets = [...SMALL, 'model.model=sd21-sampling'];
    const args = ['run', join(WORKFLOWS, 'diffedit-prompts.json'), '--out', out];
    const { code, stderr } = await cli([...args, ...sets.flatMap((s) => ['--set', s])]);
    expect(code).toBe(0);
    // each node warns once: shown as it happens, then in the run's closing summary
    const warnings = stderr.split('\n').filter((line) => /latent_sample/.test(line));
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(/⚠ warning: mask \(GenerateMask\) › model: sd21-sampling's VAE encoder/);
    expect(warnings[1]).toMatch(/⚠ warning: invert \(DDIMInvert\) › model: sd21-sampling's VAE encoder/);
    expect(warnings[2]).toMatch(/- node mask \(GenerateMask\) › model: .*\[unseeded_posterior\]$/);
    expect(warnings[3]).toMatch(/- node invert \(DDIMInvert\) › model: .*\[unseeded_posterior\]$/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      warnings: { nodeId: string; code: string }[];
    };
    // (other warnings may join them: the tiny random export's mask is empty, which MaskedDenoise warns about)
    const unseeded = report.warnings.filter((w) => w.code === 'unseeded_posterior');
    expect(unseeded.map((w) => [w.nodeId, w.code])).toEqual([
      ['mask', 'unseeded_posterior'],
      ['invert', 'unseeded_posterior'],
    ]);
    // VAEEncode's one draw serves DDIMInvert; GenerateMask encodes its 10 copies in one batch (independent draws)
    expect(calls.get('sd21-sampling/vae_encoder/model.onnx')).toBe(2);
    const grid = await decodeImage(readFileSync(join(out, 'diffedit-prompts.png')), { multiple: 1 }, 'grid');
    expect([grid.width, grid.height]).toEqual([3 * 64, 64]);
  });
});

describe('diffedit-t5-embeddings on sd21-tiny + t5-tiny via the CLI', () => {
  it('completes, is deterministic, and runs the merged decoder once per generated token', async () => {
    const { calls: counted } = await runTwice('diffedit-t5-embeddings', [
      'model.model=sd21-tiny',
      't5.model=t5-tiny',
      'source_prompts.max_new_tokens=6',
      'target_prompts.max_new_tokens=6',
      'source_prompts.num_return_sequences=4',
      'target_prompts.num_return_sequences=4',
    ]);
    expect(counted).toEqual({
      // EmbedPrompts one per list; the empty negative (also the embeddings' shape check) once
      'sd21-tiny/text_encoder/model.onnx': 2 + 1,
      'sd21-tiny/unet/model.onnx': SD_CALLS.unet,
      'sd21-tiny/vae_encoder/model.onnx': SD_CALLS.vaeEncode,
      'sd21-tiny/vae_decoder/model.onnx': SD_CALLS.vaeDecode,
      // one encoder call per instruction; the 4 sampled sequences share one merged-decoder call per token
      't5-tiny/encoder_model.onnx': 2,
      't5-tiny/decoder_model_merged.onnx': 2 * 6,
    });
  });
});

describe('diffedit-blip-caption on sd15-tiny + blip-tiny via the CLI', () => {
  it('completes, is deterministic, and runs the vision model once and the decoder once per token', async () => {
    const { calls: counted } = await runTwice('diffedit-blip-caption', [
      'model.model=sd15-tiny',
      'blip.model=blip-tiny',
      'caption.max_new_tokens=5',
    ]);
    expect(counted).toEqual({
      'blip-tiny/text_decoder.onnx': 5,
      'blip-tiny/vision_model.onnx': 1,
      'sd15-tiny/text_encoder/model.onnx': SD_CALLS.text + 1, // DDIMInvert's prompt is the caption
      'sd15-tiny/unet/model.onnx': SD_CALLS.unet,
      'sd15-tiny/vae_encoder/model.onnx': SD_CALLS.vaeEncode,
      'sd15-tiny/vae_decoder/model.onnx': SD_CALLS.vaeDecode,
    });
  });
});

describe('diffedit run --models <the fixtures folder itself>, with the CLI’s own wiring (worker thread)', () => {
  it('runs diffedit-prompts on sd21-tiny straight from the read-only fixtures', async () => {
    const out = mkdtempSync(join(tmpdir(), 'diffedit-real-wiring-'));
    const sets = [...SMALL, 'model.model=sd21-tiny'].flatMap((s) => ['--set', s]);
    const args = ['run', join(WORKFLOWS, 'diffedit-prompts.json'), '--models', REAL_EXPORTS, '--out', out];
    const { code, stderr } = await runCliCaptured([...args, ...sets, '--providers', 'cpu'], {
      runtimeOptions: { log: () => {} },
    });
    expect(stderr).not.toMatch(/✗/);
    expect(code).toBe(0);
    const grid = await decodeImage(readFileSync(join(out, 'diffedit-prompts.png')), { multiple: 1 }, 'grid');
    expect([grid.width, grid.height]).toEqual([3 * 64, 64]);
  });
});

describe('diffedit models --probe on the fixtures folder itself (read-only)', () => {
  it('lists each export with its role and provider, skips scripts/, and writes nothing', async () => {
    const { code, stdout } = await runCliCaptured(
      ['models', '--models', REAL_EXPORTS, '--probe', '--json', '--providers', 'cpu'],
      { runtimeOptions: { log: () => {} } },
    );
    const listing = JSON.parse(stdout) as {
      name: string;
      role: string;
      loads: boolean;
      providers?: Record<string, string>;
    }[];
    expect(listing.map((m) => [m.name, m.role, m.loads])).toEqual([
      ['blip-tiny', 'blip', true],
      ['sd-tiny-external-data', 'diffusion', true],
      ['sd15-tiny', 'diffusion', true],
      ['sd21-tiny', 'diffusion', true],
      ['t5-tiny', 't5', true],
    ]);
    for (const m of listing) expect(new Set(Object.values(m.providers ?? {}))).toEqual(new Set(['cpu']));
    expect(Object.keys(listing[0].providers ?? {})).toEqual(['vision', 'decoder']);
    expect(code).toBe(0);
  });
});
