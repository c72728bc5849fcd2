import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '@diffedit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { BlipModel } from '../../src/models/blip-model.js';
import { CLIP_IMAGE_MEAN, CLIP_IMAGE_STD } from '../../src/models/blip-image-processor.js';
import { InProcessBackend } from '../../src/models/in-process-backend.js';
import { SessionPool } from '../../src/models/session-pool.js';
import { writeTinyBlip } from './fixtures/tiny-blip.js';
import { syntheticRgb } from './synthetic-image.js';

const root = mkdtempSync(join(tmpdir(), 'diffedit-blip-'));
const pool = new SessionPool(new InProcessBackend(), { providers: ['cpu'] });
afterAll(async () => {
  await pool.close();
  rmSync(root, { recursive: true, force: true });
});
const folder = writeTinyBlip(join(root, 'blip'));

/** A [1,3,H,W] float image: `object` colour inside a centred square, `background` elsewhere. */
function scene(h: number, w: number, object: number[], background: number[]): Tensor {
  const t = new Tensor([1, 3, h, w]);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inside = Math.abs(y - h / 2) < h / 3 && Math.abs(x - w / 2) < w / 3;
      for (let c = 0; c < 3; c++) t.data[c * h * w + y * w + x] = (inside ? object : background)[c];
    }
  }
  return t;
}

function uint8Of(t: Tensor): { width: number; height: number; data: Uint8Array } {
  const [, , h, w] = t.dims;
  const data = new Uint8Array(h * w * 3);
  for (let i = 0; i < h * w; i++)
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(t.data[c * h * w + i] * 255);
  return { width: w, height: h, data };
}

describe('BlipModel', () => {
  it('pixel_values: resized to 384², rescaled and normalised with the config mean/std', async () => {
    const model = await BlipModel.load(folder, pool);
    const flat = new Tensor(
      [1, 3, 40, 30],
      new Float32Array(3600).fill(0).map((_, i) => [1, 0.5, 0][Math.floor(i / 1200)]),
    );
    const px = await model.pixelValues(flat);
    expect(px.dims).toEqual([1, 3, 384, 384]);
    const plane = 384 * 384;
    const expected = [255, 128, 0].map((v, c) => (v / 255 - CLIP_IMAGE_MEAN[c]) / CLIP_IMAGE_STD[c]);
    for (let c = 0; c < 3; c++) {
      for (const i of [0, 1234, plane - 1]) expect(px.data[c * plane + i]).toBeCloseTo(expected[c], 5);
    }
  });

  it('bicubic resizing matches for float and 8-bit input', async () => {
    const model = await BlipModel.load(folder, pool);
    const image = scene(50, 70, [0.9, 0.1, 0.2], [0.1, 0.2, 0.8]);
    const a = await model.pixelValues(image);
    const b = await model.pixelValues(uint8Of(image));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    // the object's centre keeps its colour, the border the background's
    const at = (c: number, y: number, x: number): number =>
      a.data[c * 384 * 384 + y * 384 + x] * CLIP_IMAGE_STD[c] + CLIP_IMAGE_MEAN[c];
    expect(at(0, 192, 192)).toBeCloseTo(Math.round(0.9 * 255) / 255, 2);
    expect(at(2, 2, 2)).toBeCloseTo(Math.round(0.8 * 255) / 255, 2);
  });

  it('downscaling is PIL BICUBIC (what BlipImageProcessor uses), level for level: reference from data/', async () => {
    const ref = JSON.parse(
      readFileSync(join(import.meta.dirname, 'data', 'pil-bicubic-640x512-to-384.json'), 'utf8'),
    ) as { width: number; height: number; stride: number; rows: number; cols: number; rgb: number[] };
    const { width, height } = ref;
    const data = syntheticRgb(width, height); // the same image as data/pil_bicubic_reference.py
    const model = await BlipModel.load(folder, pool);
    const px = await model.pixelValues({ width, height, data });
    let worst = 0;
    let total = 0;
    for (let r = 0; r < ref.rows; r++) {
      for (let q = 0; q < ref.cols; q++) {
        for (let c = 0; c < 3; c++) {
          const v = px.data[c * 384 * 384 + r * ref.stride * 384 + q * ref.stride];
          const level = (v * CLIP_IMAGE_STD[c] + CLIP_IMAGE_MEAN[c]) * 255;
          const d = Math.abs(level - ref.rgb[(r * ref.cols + q) * 3 + c]);
          worst = Math.max(worst, d);
          total += d;
        }
      }
    }
    // Pillow's fixed-point resample reproduced exactly (sharp's cubic kernel was 0.3 levels off on average here)
    expect(worst).toBeLessThan(1e-4);
    expect(total / ref.rgb.length).toBeLessThan(1e-5);
  });

  it('captions with the prompt: [DEC] first, trailing [SEP] dropped, stops at [SEP]', async () => {
    const model = await BlipModel.load(folder, pool);
    expect(await model.caption(scene(64, 64, [1, 0, 0], [0.9, 0.2, 0.1]))).toBe('a photograph of a red ball');
    expect(
      await model.caption(scene(64, 64, [0, 0.2, 1], [0.1, 0.2, 0.9]), { prompt: 'a photograph of' }),
    ).toBe('a photograph of a blue ball');
    expect(
      await model.caption(uint8Of(scene(32, 48, [0.1, 0.9, 0.1], [0.2, 0.8, 0.2])), { prompt: '' }),
    ).toBe('a green ball');
  });

  it('maxNewTokens bounds the continuation; the onnx/ subfolder layout loads', async () => {
    const model = await BlipModel.load(writeTinyBlip(join(root, 'sub'), { onnxSubfolder: true }), pool);
    expect(await model.caption(scene(16, 16, [1, 0, 0], [1, 0, 0]), { maxNewTokens: 2 })).toBe(
      'a photograph of a red',
    );
  });

  it('a pixel_values input that is not float names the vision model file', async () => {
    const model = await BlipModel.load(
      writeTinyBlip(join(root, 'int-pixels'), { onnxSubfolder: true, pixelType: 'int64' }),
      pool,
    );
    await expect(model.caption(scene(16, 16, [1, 0, 0], [1, 0, 0]))).rejects.toMatchObject({
      code: 'model_io_mismatch',
      file: 'onnx/vision_model.onnx',
      message: expect.stringMatching(
        /int-pixels: onnx\/vision_model\.onnx: input pixel_values must be float/,
      ),
    });
  });

  it('names the folder and the file when a BLIP file is missing', async () => {
    await expect(BlipModel.load(join(root, 'nowhere'), pool)).rejects.toThrow(/nowhere: vision_model\.onnx/);
  });
});
