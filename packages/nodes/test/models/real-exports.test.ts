import sharp from 'sharp';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlipModel } from '../../src/models/blip-model.js';
import { DiffusionModel } from '../../src/models/diffusion-model.js';
import { InProcessBackend } from '../../src/models/in-process-backend.js';
import { SessionPool } from '../../src/models/session-pool.js';
import { T5Model } from '../../src/models/t5-model.js';
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
afterAll(() => pool.close());

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
