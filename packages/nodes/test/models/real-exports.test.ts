import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { SeededRng, Tensor } from '@diffedit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { BlipModel } from '../../src/models/blip-model.js';
import { DiffusionModel } from '../../src/models/diffusion-model.js';
import { InProcessBackend } from '../../src/models/in-process-backend.js';
import { SessionPool } from '../../src/models/session-pool.js';
import { T5Model } from '../../src/models/t5-model.js';
import { encodeImage, sampleImageLatents } from '../../src/nodes/diffedit/image-latents.js';
import { writeFp16Export, writeInGraphPosteriorExport } from './fixtures/real-export-variants.js';
import {
  blipReference,
  maxAbsDiff,
  REAL_EXPORTS,
  SD_EXPORTS,
  SD_TOLERANCE,
  sdReference,
  t5Reference,
  tensorOf,
} from './fixtures/real-exports.js';

// Parity of the product's loaders with PyTorch on real optimum / torch.onnx exports (see the fixtures' README).
const pool = new SessionPool(new InProcessBackend(), { providers: ['cpu'] }, () => {});
const scratch = mkdtempSync(join(tmpdir(), 'diffedit-real-variants-'));
afterAll(async () => {
  await pool.close();
  rmSync(scratch, { recursive: true, force: true });
});
/** float16 weights and inputs against the fp32 PyTorch reference: float16 rounding gives at most 1.9e-3
 * (text encoder), 9.6e-4 (UNet), 6.2e-4 (VAE encoder) and 4.0e-3 (VAE decoder) here; a real mistake (wrong
 * dtype, timestep, scaling) is off by 1e-1 or more. */
const FP16_TOLERANCE = 1e-2;

describe.each(SD_EXPORTS)('%s (optimum export) against diffusers', (name) => {
  const ref = sdReference(name);
  let model: DiffusionModel;
  const loaded = async (): Promise<DiffusionModel> =>
    (model ??= await DiffusionModel.load(join(REAL_EXPORTS, name), pool));

  it('reads the facts a pipeline needs from the export', async () => {
    const m = await loaded();
    expect(m.padTokenId).toBe(ref.facts.pad_token_id);
    expect(m.scalingFactor).toBe(ref.facts.scaling_factor);
    expect([m.maxLength, m.vaeScaleFactor, m.latentChannels, m.embeddingDim]).toEqual([77, 8, 4, 32]);
    expect(m.tokenize([''])[0].slice(0, 2)).toEqual([ref.facts.bos_token_id, ref.facts.eos_token_id]);
  });

  it('tokenises every prompt exactly as the pipeline’s CLIPTokenizer ("!", runs of spaces, non-ASCII, >77)', async () => {
    const m = await loaded();
    expect(m.tokenize(ref.tokenize.prompts)).toEqual(ref.tokenize.input_ids);
    expect(m.tokenize(ref.text_encoder.prompts)).toEqual(ref.text_encoder.input_ids);
  });

  it('text encoder, UNet and VAE match PyTorch within the README tolerance', async () => {
    const m = await loaded();
    const hidden = await m.encodePrompt(ref.text_encoder.prompts);
    expect(maxAbsDiff(hidden, tensorOf(ref.text_encoder.last_hidden_state))).toBeLessThan(SD_TOLERANCE);

    const refHidden = tensorOf(ref.text_encoder.last_hidden_state);
    const out = await m.unet(tensorOf(ref.unet.sample), ref.unet.timestep, refHidden);
    expect(maxAbsDiff(out, tensorOf(ref.unet.out_sample))).toBeLessThan(SD_TOLERANCE);

    const encoding = await m.vaeEncode(tensorOf(ref.vae_encoder.image));
    expect(encoding.kind).toBe('parameters');
    if (encoding.kind !== 'parameters') return;
    expect(maxAbsDiff(encoding.mean, tensorOf(ref.vae_encoder.mean))).toBeLessThan(SD_TOLERANCE);
    expect(maxAbsDiff(encoding.logvar, tensorOf(ref.vae_encoder.logvar))).toBeLessThan(SD_TOLERANCE);

    const image = await m.vaeDecode(tensorOf(ref.vae_decoder.latents));
    expect(maxAbsDiff(image, tensorOf(ref.vae_decoder.image))).toBeLessThan(SD_TOLERANCE);
  });
});

describe('SD 2 "!" (the pad token is an added special token in transformers)', () => {
  it('becomes id 0 in sd21-tiny and stays BPE "!</w>" (256) in sd15-tiny', async () => {
    const sd21 = await DiffusionModel.load(join(REAL_EXPORTS, 'sd21-tiny'), pool);
    const sd15 = await DiffusionModel.load(join(REAL_EXPORTS, 'sd15-tiny'), pool);
    const ok = (m: DiffusionModel): number[] => m.tokenizer.encode('ok!!', false);
    expect(ok(sd21).slice(-2)).toEqual([0, 0]);
    expect(ok(sd15).slice(-1)).toEqual([256]);
  });
});

describe.each(['merged', 'plain'] as const)('t5-tiny with the %s decoder against generate()', (decoder) => {
  it('gives the same ids and greedy output, token for token', async () => {
    const t5 = await T5Model.load(join(REAL_EXPORTS, 't5-tiny'), pool, { decoder });
    expect(t5.decoderKind).toBe(decoder);
    for (const ref of t5Reference()) {
      expect(t5.tokenizer.encode(ref.text)).toEqual(ref.input_ids);
      const [text] = await t5.generate(ref.text, { maxNewTokens: ref.max_new_tokens });
      expect(text).toBe(ref.output_text);
      expect(t5.tokenizer.encode(text, false)).toEqual(ref.output_ids.slice(1));
    }
  });
});

describe('blip-tiny (the docs’ torch.onnx recipe, weights in *.onnx.data) against transformers', () => {
  it('gives the processor’s ids and pixel values and the same caption', async () => {
    const blip = await BlipModel.load(join(REAL_EXPORTS, 'blip-tiny'), pool);
    for (const ref of blipReference()) {
      const { data, info } = await sharp(Buffer.from(ref.image.png, 'base64'))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const image = { width: info.width, height: info.height, data };
      expect(blip.tokenizer.encode(ref.prompt)).toEqual(ref.input_ids);
      const pixels = await blip.pixelValues(image);
      const plane = pixels.size / 3;
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let i = 0; i < plane; i++) sum += pixels.data[c * plane + i];
        expect(Math.abs(sum / plane - ref.pixel_values_channel_mean[c])).toBeLessThan(1e-6);
      }
      const caption = await blip.caption(image, { prompt: ref.prompt, maxNewTokens: ref.max_new_tokens });
      expect(caption).toBe(ref.caption);
      expect(blip.tokenizer.encode(caption, false)).toEqual(ref.output_ids.slice(1));
    }
  });
});

describe('an fp16 export (sd21-tiny with float16 weights, inputs and outputs)', () => {
  it('is fed and read as float16 and matches PyTorch within float16 rounding', async () => {
    const m = await DiffusionModel.load(writeFp16Export(join(scratch, 'sd21-fp16')), pool);
    const ref = sdReference('sd21-tiny');
    expect(m.tokenize(ref.tokenize.prompts)).toEqual(ref.tokenize.input_ids);
    const hidden = await m.encodePrompt(ref.text_encoder.prompts);
    const refHidden = tensorOf(ref.text_encoder.last_hidden_state);
    const unet = await m.unet(tensorOf(ref.unet.sample), ref.unet.timestep, refHidden);
    const encoding = await m.vaeEncode(tensorOf(ref.vae_encoder.image));
    if (encoding.kind !== 'parameters') throw new Error('expected latent_parameters');
    const image = await m.vaeDecode(tensorOf(ref.vae_decoder.latents));
    const diffs = {
      text: maxAbsDiff(hidden, refHidden),
      unet: maxAbsDiff(unet, tensorOf(ref.unet.out_sample)),
      mean: maxAbsDiff(encoding.mean, tensorOf(ref.vae_encoder.mean)),
      logvar: maxAbsDiff(encoding.logvar, tensorOf(ref.vae_encoder.logvar)),
      decode: maxAbsDiff(image, tensorOf(ref.vae_decoder.image)),
    };
    for (const d of Object.values(diffs)) expect(d).toBeLessThan(FP16_TOLERANCE);
    // what was fed and read: float16 everywhere but input_ids, the timestep a float16 scalar
    const folder = join(scratch, 'sd21-fp16');
    const sessions = (await pool.openSessions()).filter((x) => x.path.startsWith(folder));
    const io = Object.fromEntries(
      sessions.flatMap((x) => [...x.inputs, ...x.outputs]).map((spec) => [spec.name, spec.type]),
    );
    expect(io).toMatchObject({
      input_ids: 'int64',
      last_hidden_state: 'float16',
      timestep: 'float16',
      encoder_hidden_states: 'float16',
      out_sample: 'float16',
      latent_parameters: 'float16',
      latent_sample: 'float16',
    });
    expect(sessions.find((x) => x.path.endsWith('unet/model.onnx'))?.inputs[1].shape).toEqual([]);
  });
});

describe('an export that samples the VAE posterior in its graph (latent_sample, older optimum)', () => {
  it('gives independent draws for GenerateMask’s maps and warns once that they ignore the seed', async () => {
    const m = await DiffusionModel.load(writeInGraphPosteriorExport(join(scratch, 'sd21-sampling')), pool);
    expect(m.samplesPosteriorInGraph).toBe(true);
    const ref = sdReference('sd21-tiny');
    const signed = tensorOf(ref.vae_encoder.image);
    const image = new Tensor(
      signed.dims,
      signed.data.map((v) => (v + 1) / 2),
    );
    const warnings: string[] = [];
    const count = 64;
    const encoded = await encodeImage(m, image);
    const draws = await sampleImageLatents(m, encoded, count, new SeededRng(0), {
      warn: (message) => warnings.push(message),
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/latent_sample.*seed/);
    const [, c, h, w] = draws.dims;
    expect(draws.dims).toEqual([count, 4, 4, 4]);
    const n = c * h * w;
    const mean = tensorOf(ref.vae_encoder.mean).data;
    const std = tensorOf(ref.vae_encoder.logvar).data.map((lv) => Math.exp(0.5 * lv));
    // every draw differs from the others, and their spread is the posterior's, not zero
    const rows = Array.from({ length: count }, (_, k) => draws.data.subarray(k * n, (k + 1) * n).join());
    expect(new Set(rows).size).toBe(count);
    let worstMean = 0;
    let sumRatio = 0;
    for (let i = 0; i < n; i++) {
      let s1 = 0;
      let s2 = 0;
      for (let k = 0; k < count; k++) {
        const z = draws.data[k * n + i] / m.scalingFactor;
        s1 += z;
        s2 += z * z;
      }
      const mu = s1 / count;
      const sd = Math.sqrt(s2 / count - mu * mu);
      worstMean = Math.max(worstMean, Math.abs(mu - mean[i]) / (std[i] / Math.sqrt(count)));
      sumRatio += sd / std[i];
    }
    expect(worstMean).toBeLessThan(5); // each sample mean within 5 standard errors of the posterior mean
    expect(sumRatio / n).toBeGreaterThan(0.8); // independent draws: the posterior's spread, on average
    expect(sumRatio / n).toBeLessThan(1.2);
  });
});

describe('blip-tiny saved as transformers 5 does (processor_config.json, image settings nested)', () => {
  it('reads the nested image settings, which win over BLIP’s defaults', async () => {
    const folder = join(scratch, 'blip-tf5');
    cpSync(join(REAL_EXPORTS, 'blip-tiny'), folder, { recursive: true });
    const own = JSON.parse(readFileSync(join(folder, 'preprocessor_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    rmSync(join(folder, 'preprocessor_config.json'));
    const nested = { ...own, image_mean: [0.5, 0.5, 0.5], image_std: [0.25, 0.25, 0.25], resample: 2 };
    writeFileSync(
      join(folder, 'processor_config.json'),
      JSON.stringify({ image_processor: nested, processor_class: 'BlipProcessor' }),
    );
    const blip = await BlipModel.load(folder, pool);
    expect(blip.imageSettings).toMatchObject({
      width: 384,
      height: 384,
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
      resample: 'bilinear',
    });
    const grey = { width: 2, height: 2, data: new Uint8Array(12).fill(255) };
    const pixels = await blip.pixelValues(grey);
    expect(new Set(pixels.data)).toEqual(new Set([(1 - 0.5) / 0.25]));
  });
});
