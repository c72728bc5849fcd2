import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alphasCumprodFromConfig } from '@diffedit/core';
import { TOY_SCHEDULER_CONFIG } from '../../src/configs.js';
import { writePackFiles } from '../../src/pack-io.js';
import { toySdPackFiles } from '../../src/sd-pack.js';
import { encodePrompts, openToySd } from './toy-sd-helpers.js';
import type { ToySd } from './toy-sd-helpers.js';

interface ReferenceCase {
  timestep: number;
  prompt: string | null;
  concept: number[] | null;
  sample: number[][][];
  out_sample: number[][][];
}

const fixture = new URL('./toy-unet-vectors.json', import.meta.url);
const ALPHAS = alphasCumprodFromConfig(TOY_SCHEDULER_CONFIG);

let dir: string;
let sd: ToySd;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toy-unet-'));
  await writePackFiles(dir, toySdPackFiles());
  sd = await openToySd(dir);
});
afterAll(async () => {
  await sd?.release();
  await rm(dir, { recursive: true, force: true });
});

async function unet(sample: ort.Tensor, timesteps: number[], text: ort.Tensor): Promise<Float32Array> {
  const out = await sd.unet.run({
    sample,
    timestep: new ort.Tensor(
      'int64',
      BigInt64Array.from(timesteps, (t) => BigInt(t)),
      [timesteps.length],
    ),
    encoder_hidden_states: text,
  });
  expect(out.out_sample.dims).toEqual(sample.dims);
  return out.out_sample.data as Float32Array;
}

/** A latent (scaled: channels 0-2 are colour in [-1,1]) with a disc of `fg` on `bg`, 4th channel zero. */
function discLatent(h: number, w: number, fg: number[], bg: number[], cy: number, cx: number, r: number) {
  const data = new Float32Array(4 * h * w);
  const inside = new Uint8Array(h * w);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const isIn = (i + 0.5 - cy) ** 2 + (j + 0.5 - cx) ** 2 < r * r;
      inside[i * w + j] = isIn ? 1 : 0;
      for (let c = 0; c < 3; c++) data[c * h * w + i * w + j] = isIn ? fg[c] : bg[c];
    }
  }
  return { data, inside };
}

/** Deterministic standard normal noise (xorshift + Box–Muller). */
function noise(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const uniform = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  return Float32Array.from(
    { length: n },
    () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()),
  );
}

describe('toy UNet vs the NumPy reference (toy_world_reference.py --vectors)', () => {
  it('reproduces out_sample for every case, batched with per-sample timesteps', async () => {
    const cases = JSON.parse(await readFile(fixture, 'utf8')) as ReferenceCase[];
    expect(cases.length).toBe(3);
    const [c, h, w] = [4, 16, 16];
    const sample = new Float32Array(cases.length * c * h * w);
    cases.forEach((k, b) => sample.set(k.sample.flat(2), b * c * h * w));
    // The unconditional case (prompt null) is the empty prompt's embedding, as in classifier-free guidance.
    const text = await encodePrompts(
      sd,
      cases.map((k) => k.prompt ?? ''),
    );
    const out = await unet(
      new ort.Tensor('float32', sample, [cases.length, c, h, w]),
      cases.map((k) => k.timestep),
      text,
    );
    cases.forEach((k, b) => {
      const expected = k.out_sample.flat(2);
      let worst = 0;
      for (let i = 0; i < expected.length; i++)
        worst = Math.max(worst, Math.abs(out[b * c * h * w + i] - expected[i]));
      expect(worst, `case t=${k.timestep} prompt=${k.prompt}`).toBeLessThan(1e-4);
    });
  });
});

describe('toy UNet behaviour', () => {
  const RED = [1, -1, -1];
  const BLUE = [-1, -1, 1];
  const h = 24;
  const w = 32;

  it('the prompt changes the prediction on the object only, towards the concept colour', async () => {
    const t = 481;
    const a = ALPHAS[t];
    const { data: x0, inside } = discLatent(h, w, RED, BLUE, 12, 14, 6);
    const eps = noise(x0.length, 7);
    const xt = Float32Array.from(x0, (v, i) => Math.sqrt(a) * v + Math.sqrt(1 - a) * eps[i]);
    const text = await encodePrompts(sd, ['', 'a green ball', 'a red apple on a green background']);
    const batch = new Float32Array(3 * xt.length);
    for (let b = 0; b < 3; b++) batch.set(xt, b * xt.length);
    const out = await unet(new ort.Tensor('float32', batch, [3, 4, h, w]), [t, t, t], text);
    const n = xt.length;
    let insideDiff = 0;
    let outsideDiff = 0;
    let insideCount = 0;
    let towardsGreen = 0;
    for (let p = 0; p < h * w; p++) {
      let d = 0;
      for (let c = 0; c < 3; c++) {
        const i = c * h * w + p;
        d += Math.abs(out[n + i] - out[i]);
      }
      // ε lower in the green channel ⇒ x0 estimate higher in green.
      if (inside[p]) {
        insideDiff += d;
        insideCount += 1;
        towardsGreen += out[h * w + p] - out[n + h * w + p];
      } else outsideDiff += d;
    }
    expect(insideDiff / insideCount).toBeGreaterThan(0.05);
    expect(outsideDiff / (h * w - insideCount)).toBeLessThan(0.01 * (insideDiff / insideCount));
    expect(towardsGreen / insideCount).toBeGreaterThan(0.05);
    // 'a red apple on a green background' carries red only: exactly the prediction of 'a red apple'.
    const red = await unet(
      new ort.Tensor('float32', xt, [1, 4, h, w]),
      [t],
      await encodePrompts(sd, ['a red apple']),
    );
    expect([...out.slice(2 * n, 3 * n)]).toEqual([...red]);
    expect([...out.slice(n, 2 * n)]).not.toEqual([...red]);
  });

  it('the predicted ε keeps the background: x0 estimated from it is the background colour', async () => {
    for (const t of [201, 501, 801]) {
      const a = ALPHAS[t];
      const { data: x0, inside } = discLatent(h, w, RED, BLUE, 12, 16, 7);
      const eps = noise(x0.length, t);
      const xt = Float32Array.from(x0, (v, i) => Math.sqrt(a) * v + Math.sqrt(1 - a) * eps[i]);
      const out = await unet(
        new ort.Tensor('float32', xt, [1, 4, h, w]),
        [t],
        await encodePrompts(sd, ['a red ball']),
      );
      // Over the background the denoised estimate is much closer to the truth than the naive x_t/√ā.
      let err = 0;
      let naiveErr = 0;
      for (let p = 0; p < h * w; p++) {
        if (inside[p]) continue;
        for (let c = 0; c < 3; c++) {
          const i = c * h * w + p;
          const estimate = (xt[i] - Math.sqrt(1 - a) * out[i]) / Math.sqrt(a);
          err += Math.abs(estimate - x0[i]);
          naiveErr += Math.abs(xt[i] / Math.sqrt(a) - x0[i]);
        }
      }
      expect(err, `t=${t}`).toBeLessThan(0.5 * naiveErr);
    }
  });

  it('runs at other latent sizes and batch sizes', async () => {
    const text = await encodePrompts(sd, ['a red apple', 'a red apple']);
    const xt = noise(2 * 4 * 8 * 40, 3);
    const out = await unet(new ort.Tensor('float32', xt, [2, 4, 8, 40]), [999, 1], text);
    expect(out.every(Number.isFinite)).toBe(true);
  });
});
