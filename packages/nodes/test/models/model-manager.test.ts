import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/models/model-errors.js';
import { ModelManager } from '../../src/models/model-manager.js';
import { InProcessBackend } from '../../src/models/in-process-backend.js';
import { SessionPool } from '../../src/models/session-pool.js';
import { SD1_VARIANT, writeTinySd } from './fixtures/tiny-sd.js';
import { writeTinyT5 } from './fixtures/tiny-t5.js';
import { writeTinyBlip } from './fixtures/tiny-blip.js';

const modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-models-'));
const managers: ModelManager[] = [];
function manager(options: ConstructorParameters<typeof ModelManager>[0] = {}): ModelManager {
  const m = new ModelManager({
    modelsDir,
    mode: 'in-process',
    providers: ['cpu'],
    logger: () => {},
    ...options,
  });
  managers.push(m);
  return m;
}

beforeAll(() => {
  writeTinySd(join(modelsDir, 'sd-tiny'), { ...SD1_VARIANT, externalData: true });
  writeTinySd(join(modelsDir, 'sd-broken'), SD1_VARIANT);
  unlinkSync(join(modelsDir, 'sd-broken', 'vae_decoder', 'model.onnx'));
  writeTinyT5(join(modelsDir, 'flan'), { plain: false, merged: true });
  writeTinyT5(join(modelsDir, 'flan-bad-config'), { plain: true, merged: false });
  writeFileSync(join(modelsDir, 'flan-bad-config', 'config.json'), '{ not json');
  writeTinyBlip(join(modelsDir, 'blip'));
  mkdirSync(join(modelsDir, 'notes'));
  writeFileSync(join(modelsDir, 'notes', 'readme.txt'), 'hello');
  mkdirSync(join(modelsDir, 'mystery'));
  writeFileSync(join(modelsDir, 'mystery', 'model.onnx'), 'not a known layout');
});

afterAll(async () => {
  for (const m of managers) await m.close();
  rmSync(modelsDir, { recursive: true, force: true });
});

function bytesUnder(dir: string): number {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((p) => statSync(join(dir, p)))
    .filter((s) => s.isFile())
    .reduce((a, s) => a + s.size, 0);
}

describe('model registry listing', () => {
  it('lists every folder holding model files with its role, size on disk and whether it loads', async () => {
    const list = await manager().listModels();
    expect(list.map((m) => [m.name, m.role, m.loads])).toEqual([
      ['blip', 'blip', true],
      ['flan', 't5', true],
      ['flan-bad-config', 't5', false],
      ['mystery', undefined, false],
      ['sd-broken', 'diffusion', false],
      ['sd-tiny', 'diffusion', true],
    ]);
    const sd = list.find((m) => m.name === 'sd-tiny');
    expect(sd?.sizeBytes).toBe(bytesUnder(join(modelsDir, 'sd-tiny')));
    expect(sd?.sizeBytes).toBeGreaterThan(
      statSync(join(modelsDir, 'sd-tiny', 'unet', 'model.onnx_data')).size,
    );
    expect(sd?.loaded).toBe(false);
  });

  it('names the folder and the file for broken models', async () => {
    const list = await manager().listModels();
    const broken = list.find((m) => m.name === 'sd-broken');
    expect(broken?.error?.code).toBe('model_file_missing');
    expect(broken?.error?.file).toBe('vae_decoder/model.onnx');
    expect(broken?.error?.message).toContain(join(modelsDir, 'sd-broken'));
    const config = list.find((m) => m.name === 'flan-bad-config');
    expect(config?.error).toMatchObject({ code: 'model_file_invalid', file: 'config.json' });
    expect(list.find((m) => m.name === 'mystery')?.error?.code).toBe('model_role_unknown');
    expect(list.find((m) => m.name === 'notes')).toBeUndefined(); // no model file: not a model
  });

  it('probing opens the sessions and reports their providers', async () => {
    const m = manager();
    const list = await m.listModels({ probe: true });
    const blip = list.find((x) => x.name === 'blip');
    expect(blip).toMatchObject({ loads: true, loaded: true, providers: { vision: 'cpu', decoder: 'cpu' } });
  });
});

describe('ModelManager loading', () => {
  it('loads each role by folder name and reuses the loaded model', async () => {
    const m = manager();
    const a = await m.loadDiffusion('sd-tiny');
    expect(await m.loadDiffusion('sd-tiny')).toBe(a);
    expect(a.name).toBe('sd-tiny');
    expect((await m.loadT5('flan')).decoderKind).toBe('merged');
    expect((await m.loadBlip('blip')).name).toBe('blip');
    expect((await m.listModels()).find((x) => x.name === 'sd-tiny')?.loaded).toBe(true);
    expect(a.maxBatch).toBeUndefined();
    expect((await manager({ maxBatch: 2 }).loadDiffusion('sd-tiny')).maxBatch).toBe(2);
  });

  it('errors name the folder and the file', async () => {
    const m = manager();
    const err = await m.loadDiffusion('sd-broken').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).message).toBe(
      `${join(modelsDir, 'sd-broken')}: vae_decoder/model.onnx: missing ONNX model`,
    );
    await expect(m.loadDiffusion('flan')).rejects.toThrow(/flan: is a t5 model, not diffusion/);
    await expect(m.loadT5('missing')).rejects.toMatchObject({ code: 'model_not_found' });
    await expect(m.loadT5('../etc')).rejects.toThrow(/invalid model name/);
  });

  it('a session that no provider can open names the file and every provider tried', async () => {
    const m = manager({ providers: ['no-such-provider'] });
    const err = (await m.loadBlip('blip').catch((e: unknown) => e)) as ModelError;
    expect(err.code).toBe('model_session_failed');
    expect(err.file).toMatch(/vision_model\.onnx|text_decoder\.onnx/);
    expect(err.message).toMatch(/no-such-provider/);
  });

  it('release drops the sessions; the next load opens new ones', async () => {
    const m = manager();
    const first = await m.loadDiffusion('sd-tiny');
    await m.release('sd-tiny');
    expect((await m.providerInfo()).sessions).toHaveLength(0);
    const second = await m.loadDiffusion('sd-tiny');
    expect(second).not.toBe(first);
    await expect(first.encodePrompt(['a cat'])).rejects.toMatchObject({
      code: 'model_released',
      message: expect.stringMatching(/text_encoder[/\\]model\.onnx: this session was released/),
    });
    expect((await second.encodePrompt(['a cat'])).dims).toEqual([1, 77, 4]);
    await m.release();
    expect((await m.providerInfo()).sessions).toHaveLength(0);
  });
});

describe('execution providers', () => {
  it("configured ['cuda', 'cpu']: tries each alone, records why cuda failed, and logs the provider in use", async () => {
    const lines: string[] = [];
    const m = manager({ providers: ['cuda', 'cpu'], logger: (l) => lines.push(l) });
    const model = await m.loadBlip('blip');
    const info = await m.providerInfo();
    expect(info.configured).toEqual(['cuda', 'cpu']);
    expect(info.sessions).toHaveLength(2);
    for (const s of info.sessions) {
      const cuda = s.attempts[0];
      expect(cuda.provider).toBe('cuda');
      if (cuda.ok) {
        expect(s.provider).toBe('cuda'); // a machine with a working CUDA provider
      } else {
        expect(s.provider).toBe('cpu');
        expect(cuda.error).toMatch(/\S/);
        expect(s.attempts[1]).toEqual({ provider: 'cpu', ok: true });
      }
    }
    expect(model.providers.vision).toBe(info.sessions[0].provider);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`execution provider ${info.sessions[0].provider}`));
    if (info.sessions[0].provider === 'cpu') expect(lines[0]).toMatch(/cuda failed/);
  });

  it("falls back past an unknown provider: ['no-such-provider', 'cpu'] ends on cpu", async () => {
    const m = manager({ providers: ['no-such-provider', 'cpu'] });
    await m.loadT5('flan');
    const info = await m.providerInfo();
    expect(info.sessions.map((s) => s.provider)).toEqual(['cpu', 'cpu']);
    expect(info.sessions[0].attempts[0]).toMatchObject({ provider: 'no-such-provider', ok: false });
  });
});

describe('SessionPool', () => {
  it('hands out the same session for the same path and options, a new one after release', async () => {
    const pool = new SessionPool(new InProcessBackend(), { providers: ['cpu'] });
    const path = join(modelsDir, 'blip', 'vision_model.onnx');
    const a = await pool.get(path);
    expect(await pool.get(path)).toBe(a);
    expect(await pool.get(join(modelsDir, 'blip', '.', 'vision_model.onnx'))).toBe(a);
    const other = await pool.get(path, { providers: ['cpu'], intraOpNumThreads: 1 });
    expect(other).not.toBe(a);
    expect(await pool.release(join(modelsDir, 'blip'))).toBe(2);
    const b = await pool.get(path);
    expect(b).not.toBe(a);
    await expect(a.run({})).rejects.toThrow(/released/);
    await pool.close();
  });
});

describe('built-in models', () => {
  it('writes them once, on first load of one of their names, and not for other models', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diffedit-builtins-'));
    writeTinySd(join(dir, 'sd-tiny'), SD1_VARIANT);
    let writes = 0;
    const m = manager({
      modelsDir: dir,
      builtins: {
        names: ['builtin-sd'],
        ensure: async (target) => {
          writes++;
          writeTinySd(join(target, 'builtin-sd'), SD1_VARIANT);
        },
      },
    });
    await m.loadDiffusion('sd-tiny');
    expect(writes).toBe(0);
    const [a, b] = await Promise.all([m.loadDiffusion('builtin-sd'), m.loadDiffusion('builtin-sd')]);
    expect(a).toBe(b);
    expect(a.embeddingDim).toBeGreaterThan(0);
    await m.listModels();
    expect(writes).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the models folder when the built-in models cannot be written', async () => {
    const m = manager({
      builtins: { names: ['builtin-sd'], ensure: () => Promise.reject(new Error('disk full')) },
    });
    await expect(m.loadDiffusion('builtin-sd')).rejects.toThrow(
      /cannot write the built-in models: disk full/,
    );
    await expect(m.loadDiffusion('builtin-sd')).rejects.toThrow(modelsDir);
  });
});
