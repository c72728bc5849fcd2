import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SD_VAE_SCALING_FACTOR, Tensor } from '@diffedit/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DiffusionModel } from '../../src/models/diffusion-model.js';
import { InProcessBackend } from '../../src/models/in-process-backend.js';
import { SessionPool } from '../../src/models/session-pool.js';
import { LOGVAR_BIAS, SD1_VARIANT, TEXT_SCALE, writeTinySd } from './fixtures/tiny-sd.js';
import type { TinySdVariant } from './fixtures/tiny-sd.js';
import { tinyBpe } from './fixtures/tiny-tokenizer.js';

const root = mkdtempSync(join(tmpdir(), 'diffedit-sd-'));
const pool = new SessionPool(new InProcessBackend(), { providers: ['cpu'] });
afterAll(async () => {
  await pool.close();
  rmSync(root, { recursive: true, force: true });
});

let count = 0;
async function load(variant: Partial<TinySdVariant>, maxBatch?: number): Promise<DiffusionModel> {
  const dir = writeTinySd(join(root, `sd-${count++}`), { ...SD1_VARIANT, ...variant });
  return DiffusionModel.load(dir, pool, maxBatch === undefined ? {} : { maxBatch });
}

function seq(n: number, f: (i: number) => number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => f(i));
}

/** The tiny UNet's formula, computed independently: sample·2 + t + mean(hidden row). */
function expectedUnet(sample: Tensor, steps: number[], hidden: Tensor): Float32Array {
  const [b] = sample.dims;
  const per = sample.size / b;
  const hper = hidden.size / b;
  const out = new Float32Array(sample.size);
  for (let i = 0; i < b; i++) {
    let m = 0;
    for (let j = 0; j < hper; j++) m += hidden.data[i * hper + j];
    m /= hper;
    for (let j = 0; j < per; j++) out[i * per + j] = sample.data[i * per + j] * 2 + steps[i] + m;
  }
  return out;
}

function expectClose(actual: Float32Array, expected: Float32Array, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThanOrEqual(tol);
}

const vocab = tinyBpe().vocab;

describe('DiffusionModel prompt encoding', () => {
  it('pads SD1 ids with eos and feeds int32 input_ids', async () => {
    const model = await load({ pad: 'eos', inputIds: 'int32' });
    const ids = model.tokenize(['a photo of a cat'])[0];
    expect(ids.slice(0, 7)).toEqual([
      49406,
      vocab['a</w>'],
      vocab['photo</w>'],
      vocab['of</w>'],
      vocab['a</w>'],
      vocab['cat</w>'],
      49407,
    ]);
    expect(ids.length).toBe(77);
    expect(ids.slice(7).every((id) => id === 49407)).toBe(true);
    const emb = await model.encodePrompt(['a photo of a cat', 'red apple']);
    expect(emb.dims).toEqual([2, 77, 4]);
    expect(model.embeddingDim).toBe(4);
    const ids2 = model.tokenize(['red apple'])[0];
    for (const d of [0, 3]) {
      expect(emb.data[(0 * 77 + 5) * 4 + d]).toBe(vocab['cat</w>'] * TEXT_SCALE[d]);
      expect(emb.data[(1 * 77 + 2) * 4 + d]).toBe(ids2[2] * TEXT_SCALE[d]);
      expect(emb.data[(1 * 77 + 76) * 4 + d]).toBe(49407 * TEXT_SCALE[d]);
    }
  });

  it('pads SD2 ids with "!" (0) and feeds int64 input_ids', async () => {
    const model = await load({ pad: '!', inputIds: 'int64', tokenizer: 'tokenizer.json' });
    const ids = model.tokenize(['a cat'])[0];
    expect(ids.slice(0, 5)).toEqual([49406, vocab['a</w>'], vocab['cat</w>'], 49407, 0]);
    expect(ids.slice(4).every((id) => id === 0)).toBe(true);
    const emb = await model.encodePrompt(['a cat']);
    expect(emb.data[3 * 4 + 1]).toBe(49407 * 2);
    expect(emb.data[10 * 4 + 1]).toBe(0);
  });

  it('feeds attention_mask (1 for bos … eos, 0 for padding) when the text encoder takes one', async () => {
    const model = await load({ attentionMask: true, pad: 'eos' });
    const emb = await model.encodePrompt(['a photo of a cat', '']);
    expect(emb.data[6 * 4]).toBe(49407); // prompt 0: eos at 6 is attended
    expect(emb.data[7 * 4]).toBe(0); // the padding after it is not
    expect(emb.data[(77 + 1) * 4]).toBe(49407); // "" → bos, eos
    expect(emb.data[(77 + 2) * 4]).toBe(0);
  });

  it('encodes each distinct text once and remembers it (bounded by promptMemoBytes); results are copies', async () => {
    const model = await load({});
    const first = await model.encodePrompt(['a cat', 'red apple', 'a cat']);
    expect(model.calls.textEncoder).toBe(1); // one call, for the two distinct texts
    const row = 77 * 4;
    expect(first.data.subarray(2 * row, 3 * row)).toEqual(first.data.subarray(0, row));
    first.data.fill(0); // the caller owns what it got
    const again = await model.encodePrompt(['red apple', 'a cat', 'a dog']);
    expect(model.calls.textEncoder).toBe(2); // only "a dog" was new
    expect(again.data[5 * 4]).not.toBe(0);
    expect(again.data.subarray(row, 2 * row)).toEqual((await model.encodePrompt(['a cat'])).data);
    expect(model.calls.textEncoder).toBe(2);

    // a memo with room for one row keeps only the most recent text
    const dir = writeTinySd(join(root, `sd-${count++}`), SD1_VARIANT);
    const small = await DiffusionModel.load(dir, pool, { promptMemoBytes: row * 4 });
    await small.encodePrompt(['a cat']);
    await small.encodePrompt(['a dog']);
    await small.encodePrompt(['a dog']);
    expect(small.calls.textEncoder).toBe(2);
    await small.encodePrompt(['a cat']);
    expect(small.calls.textEncoder).toBe(3);
  });

  it('truncates to 77 keeping the final eos', async () => {
    const model = await load({});
    const ids = model.tokenize([Array(100).fill('cat').join(' ')])[0];
    expect(ids.length).toBe(77);
    expect(ids[0]).toBe(49406);
    expect(ids[75]).toBe(vocab['cat</w>']);
    expect(ids[76]).toBe(49407);
  });
});

describe('DiffusionModel UNet timestep variants', () => {
  const sample = new Tensor(
    [2, 4, 2, 3],
    seq(48, (i) => (i % 7) * 0.25 - 0.5),
  );
  const hidden = new Tensor(
    [2, 77, 4],
    seq(2 * 77 * 4, (i) => (i % 5) * 0.1),
  );

  it('int64 [B] takes one timestep per row', async () => {
    const model = await load({ timestep: 'int64-batch' });
    const out = await model.unet(sample, [981, 1], hidden);
    expect(out.dims).toEqual([2, 4, 2, 3]);
    expectClose(out.data, expectedUnet(sample, [981, 1], hidden), 1e-4);
  });

  it('float32 scalar timestep', async () => {
    const model = await load({ timestep: 'float32-scalar' });
    const out = await model.unet(sample, 500.5, hidden);
    expectClose(out.data, expectedUnet(sample, [500.5, 500.5], hidden), 1e-3);
    await expect(model.unet(sample, [1, 2], hidden)).rejects.toThrow(/one timestep for the whole batch/);
  });

  it('float16 export: float16 scalar timestep, float16 sample and hidden states converted at the boundary', async () => {
    const model = await load({ timestep: 'float16-scalar', float: 'float16' });
    const out = await model.unet(sample, 21, hidden);
    // fp16 has 11 significant bits: |values| < 32 → error ≤ 2^-6 after the sums.
    expectClose(out.data, expectedUnet(sample, [21, 21], hidden), 0.03);
    const emb = await model.encodePrompt(['cat']);
    expect(emb.data[4]).toBeCloseTo(vocab['cat</w>'], -1);
  });

  it('float [B] and float [1] timesteps', async () => {
    const batch = await load({ timestep: 'float32-batch' });
    expectClose(
      (await batch.unet(sample, [3.5, 7], hidden)).data,
      expectedUnet(sample, [3.5, 7], hidden),
      1e-4,
    );
    const one = await load({ timestep: 'float32-one' });
    expectClose((await one.unet(sample, 9, hidden)).data, expectedUnet(sample, [9, 9], hidden), 1e-4);
  });

  it('loads a UNet with external weights (model.onnx_data)', async () => {
    const model = await load({ externalData: true });
    expectClose((await model.unet(sample, [4, 4], hidden)).data, expectedUnet(sample, [4, 4], hidden), 1e-4);
  });

  it('splits large batches into maxBatch chunks with the same numbers', async () => {
    const model = await load({}, 2);
    const big = new Tensor(
      [5, 4, 2, 2],
      seq(80, (i) => Math.sin(i)),
    );
    const h = new Tensor(
      [5, 77, 4],
      seq(5 * 77 * 4, (i) => Math.cos(i)),
    );
    const steps = [1, 2, 3, 4, 5];
    const session = await pool.get(join(model.folder, 'unet/model.onnx'));
    const spy = vi.spyOn(session, 'run');
    const out = await model.unet(big, steps, h);
    expect(spy).toHaveBeenCalledTimes(3);
    spy.mockRestore();
    expectClose(out.data, expectedUnet(big, steps, h), 1e-4);
  });
});

describe('DiffusionModel VAE', () => {
  const image = new Tensor(
    [1, 3, 16, 8],
    seq(3 * 16 * 8, (i) => ((i * 37) % 11) / 5 - 1),
  );
  const pooled = (c: number, y: number): number => {
    let s = 0;
    for (let dy = 0; dy < 8; dy++)
      for (let dx = 0; dx < 8; dx++) s += image.data[c * 128 + (y * 8 + dy) * 8 + dx];
    return s / 64;
  };

  it('latent_parameters → mean and clamped logvar', async () => {
    const model = await load({ vaeOutput: 'latent_parameters', scalingFactor: 0.13025 });
    expect(model.scalingFactor).toBe(0.13025);
    const enc = await model.vaeEncode(image);
    if (enc.kind !== 'parameters') throw new Error('expected parameters');
    expect(enc.mean.dims).toEqual([1, 4, 2, 1]);
    for (const y of [0, 1]) {
      expect(enc.mean.data[0 * 2 + y]).toBeCloseTo(pooled(0, y), 5);
      expect(enc.mean.data[3 * 2 + y]).toBeCloseTo(pooled(0, y) + pooled(1, y), 5);
    }
    expect(Array.from(enc.logvar.data)).toEqual(
      LOGVAR_BIAS.flatMap((b) => [Math.min(20, Math.max(-30, b))]).flatMap((v) => [v, v]),
    );
  });

  it('latent_sample → a sample; scaling factor falls back to 0.18215 without a VAE config', async () => {
    const model = await load({ vaeOutput: 'latent_sample' });
    expect(model.scalingFactor).toBe(SD_VAE_SCALING_FACTOR);
    const enc = await model.vaeEncode(image);
    if (enc.kind !== 'sample') throw new Error('expected a sample');
    expect(enc.sample.data[1 * 2 + 1]).toBeCloseTo(pooled(1, 1), 5);
  });

  it('decodes latents ×8 (nearest) with the decoder mix', async () => {
    const model = await load({}, 1);
    expect(model.vaeScaleFactor).toBe(8);
    expect(model.latentChannels).toBe(4);
    const z = new Tensor(
      [2, 4, 1, 2],
      seq(16, (i) => i / 10),
    );
    const img = await model.vaeDecode(z);
    expect(img.dims).toEqual([2, 3, 8, 16]);
    // batch 1, channel 2, pixel (y=3, x=12) comes from latent (0, 1): z[2] + 0.5·z[3]
    const zi = (c: number): number => z.data[8 + c * 2 + 1];
    expect(img.data[24 * 16 + 2 * 128 + 3 * 16 + 12]).toBeCloseTo(zi(2) + 0.5 * zi(3), 5);
  });

  it('refuses a UNet that needs inputs it cannot feed (SDXL), naming the file and the inputs', async () => {
    await expect(load({ sdxlInputs: true })).rejects.toThrow(
      /unet\/model\.onnx: needs inputs .*: text_embeds/,
    );
  });

  it('a failing run names the model folder and the file, and an abort stays an abort', async () => {
    const model = await load({});
    const hidden = await model.encodePrompt(['a']);
    await expect(model.unet(new Tensor([1, 3, 2, 2]), 1, hidden)).rejects.toMatchObject({
      name: 'ModelError',
      code: 'model_run_failed',
      folder: model.folder,
      file: 'unet/model.onnx',
      message: expect.stringMatching(/unet\/model\.onnx: .*sample/),
    });
    await expect(model.vaeDecode(new Tensor([1, 3, 2, 2]))).rejects.toMatchObject({
      code: 'model_run_failed',
      file: 'vae_decoder/model.onnx',
    });
    const controller = new AbortController();
    controller.abort();
    await expect(
      model.unet(new Tensor([1, 4, 2, 2]), 1, hidden, { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('gives back the parsed scheduler config', async () => {
    const model = await load({});
    expect(model.schedulerConfig._class_name).toBe('PNDMScheduler');
    expect(model.schedulerConfig.beta_schedule).toBe('scaled_linear');
  });
});
