// toy-pack and models on damaged folders: a clear error (exit 1) or a repair, never an uncaught exception.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EXIT } from '@diffedit/runtime';
import { TOY_PACK_STAMP, writeToyPack } from '@diffedit/toy-models';

import { runCliCaptured } from './capture-cli.js';

let dir: string;
let reference: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffedit-maintenance-'));
  reference = join(dir, 'reference');
  await writeToyPack(reference);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const UNET = join('toy-sd', 'unet', 'model.onnx');

async function freshPack(name: string): Promise<string> {
  const models = join(dir, name);
  await writeToyPack(models);
  return models;
}

describe('diffedit toy-pack', () => {
  it('says up to date for an intact pack, and rewrites a file damaged on disk even with the stamp intact', async () => {
    const models = await freshPack('damaged-unet');
    const intact = await runCliCaptured(['toy-pack', '--models', models]);
    expect(intact.code).toBe(EXIT.ok);
    expect(intact.stderr).toContain('is up to date');
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    await writeFile(join(models, UNET), random);
    const repaired = await runCliCaptured(['toy-pack', '--models', models]);
    expect(repaired.code).toBe(EXIT.ok);
    expect(repaired.stderr).toContain('wrote the toy pack');
    expect((await readFile(join(models, UNET))).equals(await readFile(join(reference, UNET)))).toBe(true);
  });

  it('rewrites a truncated stamp', async () => {
    const models = await freshPack('truncated-stamp');
    await writeFile(join(models, TOY_PACK_STAMP), '{"toyPackVers');
    const { code, stderr } = await runCliCaptured(['toy-pack', '--models', models]);
    expect(code).toBe(EXIT.ok);
    expect(stderr).toContain('wrote the toy pack');
    expect(await readFile(join(models, TOY_PACK_STAMP), 'utf8')).toBe(
      await readFile(join(reference, TOY_PACK_STAMP), 'utf8'),
    );
  });

  it('a folder where the stamp goes is a clear error (exit 1), not a crash', async () => {
    const models = await freshPack('stamp-folder');
    await rm(join(models, TOY_PACK_STAMP));
    await mkdir(join(models, TOY_PACK_STAMP));
    const { code, stderr } = await runCliCaptured(['toy-pack', '--models', models]);
    expect(code).toBe(EXIT.failed);
    expect(stderr).toContain(`cannot write the toy pack into ${models}`);
    expect(stderr).toContain('is a folder');
    expect(stderr).not.toContain('internal error');
  });

  it('a models path that cannot be written is a clear error (exit 1)', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const { code, stderr } = await runCliCaptured(['toy-pack', '--models', join(file, 'models')]);
    expect(code).toBe(EXIT.failed);
    expect(stderr).toContain('cannot write the toy pack into');
    expect(stderr).not.toContain('internal error');
  });

  it.skipIf(process.getuid?.() === 0)('a read-only models folder is a clear error (exit 1)', async () => {
    const models = join(dir, 'read-only');
    await mkdir(models);
    await chmod(models, 0o555);
    try {
      const { code, stderr } = await runCliCaptured(['toy-pack', '--models', models]);
      expect(code).toBe(EXIT.failed);
      expect(stderr).toContain('cannot write the toy pack into');
    } finally {
      await chmod(models, 0o755);
    }
  });
});

describe('diffedit models --probe', () => {
  it.each([
    ['values that make no scheduler', '{"num_train_timesteps": -3, "beta_schedule": "banana"}'],
    ['not JSON', '{"num_train_timesteps": 1000,'],
    ['not an object', '[1, 2, 3]'],
  ])('names a scheduler_config.json with %s', async (_what, text) => {
    const models = await freshPack(`scheduler-${_what.replace(/\W+/g, '-')}`);
    await writeFile(join(models, 'toy-sd', 'scheduler', 'scheduler_config.json'), text);
    const { code, stdout } = await runCliCaptured([
      'models',
      '--models',
      models,
      '--probe',
      '--json',
      '--providers',
      'cpu',
    ]);
    expect(code).toBe(EXIT.failed);
    const listing = JSON.parse(stdout) as Array<{
      name: string;
      loads: boolean;
      error?: { code: string; file?: string };
    }>;
    const sd = listing.find((m) => m.name === 'toy-sd');
    expect(sd).toMatchObject({ loads: false, error: { code: 'model_file_invalid' } });
    expect(sd?.error?.file).toBe('scheduler/scheduler_config.json');
    expect(listing.filter((m) => m.name !== 'toy-sd').every((m) => m.loads)).toBe(true);
  });

  it('a models path that is a file is a clear error, not a crash', async () => {
    const file = join(dir, 'models-file');
    await writeFile(file, 'x');
    const { code, stderr } = await runCliCaptured(['models', '--models', file, '--providers', 'cpu']);
    expect([EXIT.ok, EXIT.failed]).toContain(code);
    expect(stderr).not.toContain('internal error');
  });
});
