import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateScene, sceneToSignedChw } from '../../src/scenes/index.js';
import { writePackFiles } from '../../src/pack-io.js';
import { toySdPackFiles } from '../../src/sd-pack.js';
import { VAE_LOGVAR, VAE_SCALING_FACTOR } from '../../src/toy-vae.js';
import { openToySd } from './toy-sd-helpers.js';
import type { ToySd } from './toy-sd-helpers.js';

let dir: string;
let sd: ToySd;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toy-vae-'));
  await writePackFiles(dir, toySdPackFiles());
  sd = await openToySd(dir);
});
afterAll(async () => {
  await sd?.release();
  await rm(dir, { recursive: true, force: true });
});

describe('toy VAE', () => {
  const scenes = [
    generateScene({ object: 'red', background: 'blue', shape: 'circle', width: 128, height: 96, seed: 1 }),
    generateScene({
      object: 'yellow',
      background: 'purple',
      shape: 'triangle',
      width: 128,
      height: 96,
      seed: 2,
    }),
  ];
  const H = 96;
  const W = 128;
  const batch = new Float32Array(2 * 3 * H * W);
  scenes.forEach((s, b) => batch.set(sceneToSignedChw(s), b * 3 * H * W));

  it('encodes to mean ‖ logvar with mean·0.18215 = the 8×8 average colour (batch of 2)', async () => {
    const out = await sd.vaeEncoder.run({ sample: new ort.Tensor('float32', batch, [2, 3, H, W]) });
    const params = out.latent_parameters;
    expect(params.dims).toEqual([2, 8, H / 8, W / 8]);
    const p = params.data as Float32Array;
    const [h, w] = [H / 8, W / 8];
    for (let b = 0; b < 2; b++) {
      for (const [by, bx] of [
        [0, 0],
        [5, 7],
        [11, 15],
        [6, 3],
      ]) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let y = 0; y < 8; y++)
            for (let x = 0; x < 8; x++) sum += batch[((b * 3 + c) * H + by * 8 + y) * W + bx * 8 + x];
          expect(p[((b * 8 + c) * h + by) * w + bx] * VAE_SCALING_FACTOR).toBeCloseTo(sum / 64, 5);
        }
        expect(p[((b * 8 + 3) * h + by) * w + bx]).toBe(0);
        for (let c = 4; c < 8; c++) expect(p[((b * 8 + c) * h + by) * w + bx]).toBe(VAE_LOGVAR);
      }
    }
  });

  it('round-trips a scene with a small error, exact on flat areas', async () => {
    const encoded = await sd.vaeEncoder.run({ sample: new ort.Tensor('float32', batch, [2, 3, H, W]) });
    const params = encoded.latent_parameters.data as Float32Array;
    const [h, w] = [H / 8, W / 8];
    const latents = new Float32Array(2 * 4 * h * w);
    for (let b = 0; b < 2; b++)
      latents.set(params.subarray(b * 8 * h * w, (b * 8 + 4) * h * w), b * 4 * h * w);
    const decoded = await sd.vaeDecoder.run({
      latent_sample: new ort.Tensor('float32', latents, [2, 4, h, w]),
    });
    expect(decoded.sample.dims).toEqual([2, 3, H, W]);
    const img = decoded.sample.data as Float32Array;
    let err = 0;
    let largest = 0;
    for (let i = 0; i < img.length; i++) {
      largest = Math.max(largest, Math.abs(img[i]));
      err += Math.abs(img[i] - batch[i]) / 2;
    }
    expect(largest).toBeLessThanOrEqual(1);
    expect(err / img.length).toBeLessThan(0.03);
    // Far from the object (top-left corner block) the round trip is exact.
    for (let c = 0; c < 3; c++)
      expect(img[c * H * W + 2 * W + 2]).toBeCloseTo(batch[c * H * W + 2 * W + 2], 5);
  });
});
