/**
 * The behaviour contract of toy-world.md, checked on the ONNX models themselves: a compact copy of the DiffEdit
 * loop of toy_world_reference.py (mask from noise-prediction differences, DDIM inversion, masked denoising;
 * guidance 7.5, 50 steps, mask strength 0.5, inversion strength 0.8) driven by the toy text encoder, UNet and
 * VAE encoder through onnxruntime. Prompts are BLIP-style captions that name the background colour too: the
 * text encoder's background rule must keep that colour out of the concept.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alphasCumprodFromConfig } from '@diffedit/core';
import { generateScene, SCENE_COLOURS, sceneToSignedChw } from '../../src/scenes/index.js';
import type { ShapeKind } from '../../src/scenes/index.js';
import { TOY_SCHEDULER_CONFIG } from '../../src/configs.js';
import { writePackFiles } from '../../src/pack-io.js';
import { toySdPackFiles } from '../../src/sd-pack.js';
import { VAE_SCALING_FACTOR } from '../../src/toy-vae.js';
import type { ToyColourName } from '../../src/vocabulary.js';
import { encodePrompts, openToySd } from './toy-sd-helpers.js';
import type { ToySd } from './toy-sd-helpers.js';

const ALPHAS = alphasCumprodFromConfig(TOY_SCHEDULER_CONFIG);
const GUIDANCE = 7.5;
const STEPS = 50;
const STRIDE = 1000 / STEPS;

let dir: string;
let sd: ToySd;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toy-contract-'));
  await writePackFiles(dir, toySdPackFiles());
  sd = await openToySd(dir);
});
afterAll(async () => {
  await sd?.release();
  await rm(dir, { recursive: true, force: true });
});

/** Seeded standard normals (mulberry32 + Box–Muller). */
function normals(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return Float32Array.from(
    { length: n },
    () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()),
  );
}

type Embedding = ort.Tensor;

/** Stacks copies of single-prompt embeddings [1,77,D] into one batch. */
function stack(parts: Embedding[]): ort.Tensor {
  const [, seq, d] = parts[0].dims;
  const data = new Float32Array(parts.length * seq * d);
  parts.forEach((p, i) => data.set(p.data as Float32Array, i * seq * d));
  return new ort.Tensor('float32', data, [parts.length, seq, d]);
}

async function unet(
  latents: Float32Array[],
  t: number,
  text: ort.Tensor,
  dims: number[],
): Promise<Float32Array[]> {
  const n = latents[0].length;
  const sample = new Float32Array(latents.length * n);
  latents.forEach((l, i) => sample.set(l, i * n));
  const out = await sd.unet.run({
    sample: new ort.Tensor('float32', sample, [latents.length, ...dims]),
    timestep: new ort.Tensor('int64', new BigInt64Array(latents.length).fill(BigInt(t)), [latents.length]),
    encoder_hidden_states: text,
  });
  const data = out.out_sample.data as Float32Array;
  return latents.map((_, i) => data.subarray(i * n, (i + 1) * n));
}

const guided = (uncond: Float32Array, cond: Float32Array): Float32Array =>
  Float32Array.from(uncond, (u, i) => u + GUIDANCE * (cond[i] - u));

async function runDiffEdit(
  image: Float32Array,
  size: number,
  source: string,
  target: string,
  seed: number,
): Promise<{ mask: Uint8Array; result: Float32Array; encoded: Float32Array }> {
  const h = size / 8;
  const dims = [4, h, h];
  const encodedParams = await sd.vaeEncoder.run({
    sample: new ort.Tensor('float32', image, [1, 3, size, size]),
  });
  const params = encodedParams.latent_parameters.data as Float32Array;
  const x0 = Float32Array.from(params.subarray(0, 4 * h * h), (v) => v * VAE_SCALING_FACTOR);
  const [empty, src, tgt] = await Promise.all(['', source, target].map((p) => encodePrompts(sd, [p])));

  // GenerateMask: 10 noised copies at the strength-0.5 timestep, |ε_target − ε_source| averaged.
  const maps = 10;
  const tMask = (STEPS - 1 - (STEPS - STEPS * 0.5)) * STRIDE + 1;
  const aMask = ALPHAS[tMask];
  const noisy = Array.from({ length: maps }, (_, k) => {
    const n = normals(x0.length, seed * 100 + k);
    return Float32Array.from(x0, (v, i) => Math.sqrt(aMask) * v + Math.sqrt(1 - aMask) * n[i]);
  });
  const eps = await unet(
    noisy.flatMap((x) => [x, x, x]),
    tMask,
    stack(noisy.flatMap(() => [empty, src, tgt])),
    dims,
  );
  const plane = h * h;
  const diff = new Float64Array(plane);
  for (let k = 0; k < maps; k++) {
    const s = guided(eps[3 * k], eps[3 * k + 1]);
    const d = guided(eps[3 * k], eps[3 * k + 2]);
    for (let p = 0; p < plane; p++) {
      let sum = 0;
      for (let c = 0; c < 4; c++) sum += Math.abs(d[c * plane + p] - s[c * plane + p]);
      diff[p] += sum / 4 / maps;
    }
  }
  const clamp = (diff.reduce((a, b) => a + b, 0) / plane) * 3;
  const mask = Uint8Array.from(diff, (v) => (Math.min(v, clamp) / clamp > 0.5 ? 1 : 0));

  // DDIM inversion with the source prompt (strength 0.8).
  const ts = Array.from({ length: STEPS }, (_, i) => i * STRIDE + 1).slice(0, STEPS * 0.8);
  let x: Float32Array = x0;
  const inverted: Float32Array[] = [];
  for (const t of ts) {
    const [eu, ec] = await unet([x, x], t, stack([empty, src]), dims);
    const e = guided(eu, ec);
    const aSrc = t - STRIDE >= 0 ? ALPHAS[t - STRIDE] : ALPHAS[0];
    const a = ALPHAS[t];
    const current = x;
    x = Float32Array.from(current, (v, i) => {
      const clean = Math.min(1, Math.max(-1, (v - Math.sqrt(1 - aSrc) * e[i]) / Math.sqrt(aSrc)));
      return Math.sqrt(a) * clean + Math.sqrt(1 - a) * e[i];
    });
    inverted.push(x);
  }
  inverted.reverse();
  ts.reverse();

  // Masked denoising towards the target, the source as negative prompt.
  x = inverted[0];
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    const [eu, ec] = await unet([x, x], t, stack([src, tgt]), dims);
    const e = guided(eu, ec);
    const a = ALPHAS[t];
    const aPrev = t - STRIDE >= 0 ? ALPHAS[t - STRIDE] : ALPHAS[0];
    const current = x;
    x = Float32Array.from(current, (v, j) => {
      const clean = Math.min(1, Math.max(-1, (v - Math.sqrt(1 - a) * e[j]) / Math.sqrt(a)));
      const next = Math.sqrt(aPrev) * clean + Math.sqrt(1 - aPrev) * e[j];
      const m = mask[j % plane];
      return next * m + inverted[i][j] * (1 - m);
    });
  }
  return { mask, result: x, encoded: x0 };
}

interface Case {
  object: ToyColourName;
  background: ToyColourName;
  target: ToyColourName;
  shape: ShapeKind;
  seed: number;
}

const CASES: Case[] = [
  { object: 'red', background: 'blue', target: 'green', shape: 'circle', seed: 1 },
  { object: 'green', background: 'black', target: 'red', shape: 'square', seed: 2 },
  { object: 'white', background: 'red', target: 'blue', shape: 'ellipse', seed: 3 },
  { object: 'orange', background: 'black', target: 'white', shape: 'triangle', seed: 4 },
];

describe('DiffEdit behaviour contract on the toy SD models', () => {
  const ious: number[] = [];
  for (const c of CASES) {
    it(`${c.object} ${c.shape} on ${c.background} → ${c.target}`, async () => {
      const size = 512;
      const scene = generateScene({
        object: c.object,
        background: c.background,
        shape: c.shape,
        width: size,
        height: size,
        radius: 56 + 8 * c.seed,
        seed: c.seed,
      });
      const caption = (colour: string): string =>
        `a photograph of a ${colour} ${c.shape} on a ${c.background} background`;
      const { mask, result, encoded } = await runDiffEdit(
        sceneToSignedChw(scene),
        size,
        caption(c.object),
        caption(c.target),
        c.seed,
      );
      const truth = scene.latentMask;
      let both = 0;
      let either = 0;
      for (let p = 0; p < truth.length; p++) {
        both += truth[p] & mask[p];
        either += truth[p] | mask[p];
      }
      const iou = both / either;
      ious.push(iou);
      expect(iou).toBeGreaterThanOrEqual(0.7);

      const plane = truth.length;
      const mean = [0, 1, 2].map((ch) => {
        let s = 0;
        for (let p = 0; p < plane; p++) if (truth[p]) s += result[ch * plane + p];
        return s / truth.reduce((n, v) => n + v, 0);
      });
      const dist = (rgb: readonly number[]): number => Math.hypot(...rgb.map((v, i) => v - mean[i]));
      const toTarget = dist(SCENE_COLOURS[c.target].signed);
      const toSource = dist(SCENE_COLOURS[c.object].signed);
      expect(toTarget + 0.5).toBeLessThan(toSource);

      let err = 0;
      let count = 0;
      for (let p = 0; p < plane; p++) {
        if (mask[p]) continue;
        for (let ch = 0; ch < 3; ch++) err += Math.abs(result[ch * plane + p] - encoded[ch * plane + p]) / 2;
        count += 3;
      }
      expect(err / count).toBeLessThanOrEqual(0.02);
    });
  }

  it('mask IoU averages ≥ 0.85', () => {
    expect(ious.length).toBe(CASES.length);
    expect(ious.reduce((a, b) => a + b, 0) / ious.length).toBeGreaterThanOrEqual(0.85);
  });
});
