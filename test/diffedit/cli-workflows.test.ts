import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { InputsFolderKey, ServiceRegistry, validateWorkflow } from '@diffedit/core';
import {
  createNodeCatalog,
  decodeImage,
  ModelManager,
  ModelManagerKey,
  readPngTextChunks,
} from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCliCaptured } from '../../apps/runtime/test/capture-cli.js';
import { WORKFLOWS } from './harness.js';

const NAMES = ['diffedit-prompts', 'diffedit-t5-embeddings', 'diffedit-blip-caption'] as const;
let modelsDir: string;
let manager: ModelManager;

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-cli-models-'));
  await writeToyPack(modelsDir);
  manager = new ModelManager({ modelsDir, mode: 'in-process', providers: ['cpu'], logger: () => {} });
});
afterAll(() => manager.close());

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // the CLI's own wiring, except for in-process inference (vitest runs the TS sources, not the built worker)
  const services = new ServiceRegistry()
    .set(InputsFolderKey, { root: WORKFLOWS, resolve: (p: string) => resolve(WORKFLOWS, p) })
    .set(ModelManagerKey, manager);
  return runCliCaptured(args, { runtimeOptions: { services, modelsDir } });
}

describe('the shipped DiffEdit workflows through the CLI', () => {
  it.each(NAMES)('%s validates', async (name) => {
    const { code, stderr } = await cli(['validate', join(WORKFLOWS, `${name}.json`)]);
    expect(stderr).not.toMatch(/✗/);
    expect(code).toBe(0);
  });

  it.each(NAMES)(
    '%s runs on the toy pack and writes its [original | mask | edited] grid PNG',
    async (name) => {
      const out = mkdtempSync(join(tmpdir(), `diffedit-cli-${name}-`));
      const cheap = [
        'image.width=128',
        'image.height=128',
        'mask.num_inference_steps=10',
        'invert.num_inference_steps=10',
      ];
      const { code, stderr } = await cli([
        'run',
        join(WORKFLOWS, `${name}.json`),
        '--out',
        out,
        ...cheap.flatMap((s) => ['--set', s]),
      ]);
      expect(stderr).not.toMatch(/✗/);
      expect(code).toBe(0);
      const file = join(out, `${name}.png`);
      expect(existsSync(file)).toBe(true);
      expect(existsSync(join(out, 'report.json'))).toBe(true);
      const png = readFileSync(file);
      const grid = await decodeImage(png, { multiple: 1 }, file);
      expect([grid.width, grid.height]).toEqual([3 * 128, 128]);
      // what the grid shows: the red apple, its mask (white centre, black corner), the apple turned green
      const rgbAt = (x: number, y: number) =>
        Array.from(grid.data.subarray((y * grid.width + x) * 3, (y * grid.width + x) * 3 + 3));
      const [r0, g0] = rgbAt(64, 66);
      expect(r0).toBeGreaterThan(0.9);
      expect(g0).toBeLessThan(0.1);
      expect(rgbAt(128 + 64, 66)).toEqual([1, 1, 1]);
      expect(rgbAt(128 + 4, 4)).toEqual([0, 0, 0]);
      const [r2, g2] = rgbAt(256 + 64, 66);
      expect(g2 - r2).toBeGreaterThan(0.5);
      // the PNG carries the workflow (with the --set values) so the editor can restore the graph
      const texts = readPngTextChunks(png);
      const embedded = JSON.parse(texts.workflow) as {
        nodes: { id: string; params: Record<string, unknown> }[];
      };
      const validation = validateWorkflow(embedded, createNodeCatalog());
      expect(validation.ok).toBe(true);
      expect(embedded.nodes.find((n) => n.id === 'invert')?.params.num_inference_steps).toBe(10);
      const inputs = JSON.parse(texts.inputs) as {
        nodes: Record<string, { type: string; params: Record<string, unknown> }>;
      };
      expect(inputs.nodes.denoise).toMatchObject({ type: 'MaskedDenoise', params: { guidance_scale: 7.5 } });
      // restoring: the workflow taken from the PNG alone, run again, saves the same picture
      const restoredFile = join(out, 'restored.json');
      writeFileSync(restoredFile, texts.workflow);
      const again = mkdtempSync(join(tmpdir(), `diffedit-cli-${name}-restored-`));
      const rerun = await cli(['run', restoredFile, '--out', again]);
      expect(rerun.stderr).not.toMatch(/✗/);
      expect(rerun.code).toBe(0);
      const regrid = await decodeImage(readFileSync(join(again, `${name}.png`)), { multiple: 1 }, 'restored');
      expect(Array.from(regrid.data)).toEqual(Array.from(grid.data));
    },
  );
});
