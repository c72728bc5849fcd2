// The VAE conversions run as programs next to the VAE sessions (the model worker); the node-side conversions
// they replace stay as encodeImageHere / decodeScaledLatentsHere. Both give the same bits, on the toy pack's
// VAE and the repository's apple photo. Needs the compiled worker (npx tsc -b).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { byteSizeOf, displayBytesOf, notedDisplayBytes, scale, Tensor } from '@diffedit/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  decodeScaledLatents,
  decodeScaledLatentsHere,
  ENCODE_IMAGE_PROGRAM,
  encodeImage,
  encodeImageHere,
  imageBatchFromRgbBytes,
  ModelManager,
  rgbBytesFromImageBatch,
  tileImageBatches,
} from '@diffedit/nodes';
import type { DiffusionModel, EncodedImage } from '@diffedit/nodes';
import { ensureToyPack } from '@diffedit/toy-models';

import { ASSETS } from './toy-runtime.js';

const modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-vae-programs-'));
const managers: ModelManager[] = [];
let apple: Tensor;

beforeAll(async () => {
  await ensureToyPack(modelsDir);
  const { data, info } = await sharp(join(ASSETS, 'red-apple-on-blue.png'))
    .resize(64, 48, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  apple = imageBatchFromRgbBytes(new Uint8Array(data), info.width, info.height);
});
afterAll(async () => {
  await Promise.all(managers.map((m) => m.close()));
  rmSync(modelsDir, { recursive: true, force: true });
});

async function toySd(mode: 'worker' | 'in-process'): Promise<DiffusionModel> {
  const manager = new ModelManager({ modelsDir, mode, providers: ['cpu'], logger: () => {} });
  managers.push(manager);
  return manager.loadDiffusion('toy-sd');
}

/** Bitwise equality of two float arrays (NaN and -0 included). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

function expectSameEncoding(a: EncodedImage, b: EncodedImage): void {
  expect(a.encoding.kind).toBe('parameters');
  if (a.encoding.kind !== 'parameters' || b.encoding.kind !== 'parameters') return;
  expect(a.encoding.mean.dims).toEqual(b.encoding.mean.dims);
  expect(sameBits(a.encoding.mean.data, b.encoding.mean.data)).toBe(true);
  expect(sameBits(a.encoding.logvar.data, b.encoding.logvar.data)).toBe(true);
  expect(a.previewProjection).toEqual(b.previewProjection);
  expect(a.previewProjection.weights).toHaveLength(4);
  expect({ ...a, encoding: undefined }).toEqual({ ...b, encoding: undefined });
}

describe.each(['worker', 'in-process'] as const)('VAE programs (%s sessions)', (mode) => {
  it('encode an 8-bit image and a float image as the node-side conversion does, bit for bit', async () => {
    const model = await toySd(mode);
    expect(apple.byteLevels).toBeDefined();
    const before = model.calls.vaeEncoder;
    const [program, here] = [await encodeImage(model, apple), await encodeImageHere(model, apple)];
    expect(model.calls.vaeEncoder - before).toBe(2);
    expectSameEncoding(program, here);
    // the program path was taken (it gives the encoder's raw output and the fit)
    const direct = model.runVaeProgram('vaeEncoder', ENCODE_IMAGE_PROGRAM, {
      input: {
        io: model.vaeEncoderIo,
        maxBatch: undefined,
        dims: apple.dims,
        pixels: apple.byteLevels as Uint8Array,
        fit: { scalingFactor: model.scalingFactor, parameters: true },
      },
    });
    expect(direct).toBeDefined();
    const out = await direct!;
    expect(out.previewProjection).toEqual(here.previewProjection);
    expect(model.calls.vaeEncoder - before).toBe(3);
    // not 8-bit levels: the floats travel instead of the bytes
    const floats = new Tensor(
      apple.dims,
      apple.data.map((v, i) => v * 0.9 + 0.05 * Math.sin(i)),
    );
    expect(floats.byteLevels).toBeUndefined();
    expectSameEncoding(await encodeImage(model, floats), await encodeImageHere(model, floats));
  });

  it('decode latents to the same image, with its display bytes noted for the grid and SaveImage', async () => {
    const model = await toySd(mode);
    const encoded = await encodeImageHere(model, apple);
    if (encoded.encoding.kind !== 'parameters') throw new Error('the toy VAE gives latent_parameters');
    // two latents: the mean, and one pushed out of range so that the decode clamps
    const mean = scale(encoded.encoding.mean, model.scalingFactor);
    const latents = new Tensor([2, ...mean.dims.slice(1)]);
    latents.data.set(mean.data);
    latents.data.set(
      mean.data.map((v) => v * 6),
      mean.size,
    );
    const before = model.calls.vaeDecoder;
    const program = await decodeScaledLatents(model, latents);
    const here = await decodeScaledLatentsHere(model, latents);
    expect(model.calls.vaeDecoder - before).toBe(2);
    expect(program.dims).toEqual([2, 3, 48, 64]);
    expect(sameBits(program.data, here.data)).toBe(true);
    expect(here.data.some((v) => v === 0 || v === 1)).toBe(true); // clamped somewhere

    const shown = notedDisplayBytes(program.data);
    expect(shown).toBeDefined();
    expect(notedDisplayBytes(here.data)).toBeUndefined();
    const rounded = Uint8Array.from(here.data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    expect(shown).toEqual(rounded);
    expect(displayBytesOf(here.data)).toEqual(rounded);
    // the grid and SaveImage read the noted bytes: the same as from the floats
    const grid = (image: Tensor): Uint8Array | undefined =>
      tileImageBatches([apple, image], 1, 3, 64, 48).byteLevels;
    expect(grid(program)).toEqual(grid(here));
    expect(rgbBytesFromImageBatch(program, 1)).toEqual(rgbBytesFromImageBatch(here, 1));
    // the output cache counts the noted bytes with the image they belong to
    expect(byteSizeOf(program)).toBe(byteSizeOf(here) + (shown?.byteLength ?? 0));
  });
});

describe.each(['worker', 'in-process'] as const)('a failing VAE call in a program (%s sessions)', (mode) => {
  it('fails as the session call fails: the same error, naming model and file', async () => {
    const model = await toySd(mode);
    // four channels: the toy VAE encoder's first convolution takes three
    const bad = new Tensor([1, 4, 16, 16]);
    const caught = (p: Promise<unknown>): Promise<unknown> =>
      p.then(
        () => undefined,
        (error: unknown) => error,
      );
    const direct = (await caught(model.vaeEncode(bad))) as Error & { code?: string };
    const program = (await caught(
      model.runVaeProgram('vaeEncoder', ENCODE_IMAGE_PROGRAM, {
        input: { io: model.vaeEncoderIo, maxBatch: undefined, dims: bad.dims, pixels: bad.data },
      })!,
    )) as Error & { code?: string };
    expect(direct).toBeInstanceOf(Error);
    expect(direct.message).toContain('vae_encoder/model.onnx');
    expect({ name: program.name, code: program.code }).toEqual({ name: direct.name, code: direct.code });
    expect(program.message).toContain('vae_encoder/model.onnx');
    expect(program.message).toContain('toy-sd');
  });
});

describe('display bytes', () => {
  it('are Math.round(clamp01(v) · 255), and none for an image holding -0 or NaN', () => {
    const values = Float32Array.from([0, 1, 0.5, 127.5 / 255, -3, 7, 1e-9, 0.999999, 0.0019607, 0.0019608]);
    expect(Array.from(displayBytesOf(values) ?? [])).toEqual(
      Array.from(values, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)),
    );
    expect(displayBytesOf(Float32Array.from([0.2, -0]))).toBeUndefined();
    expect(displayBytesOf(Float32Array.from([0.2, NaN]))).toBeUndefined();
  });
});
