import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

import { buildBenchUnet } from '../../src/bench-unet.js';
import { benchSdPackFiles, toySdPackFiles } from '../../src/sd-pack.js';
import { TEXT_EMBEDDING } from '../../src/toy-text-encoder.js';

describe('bench UNet', () => {
  it('has the SD UNet I/O, gives bounded predictions that depend on sample, timestep and text', async () => {
    const session = await ort.InferenceSession.create(buildBenchUnet().toModelBytes({ opsetVersion: 17 }));
    expect(session.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    expect(session.outputNames).toEqual(['out_sample']);
    const [b, h, w, d] = [2, 16, 24, TEXT_EMBEDDING.size];
    const wave = (n: number, f: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * f));
    const run = async (sample: Float32Array, t: bigint, text: Float32Array) =>
      (
        await session.run({
          sample: new ort.Tensor('float32', sample, [b, 4, h, w]),
          timestep: new ort.Tensor('int64', new BigInt64Array([t, t]), [b]),
          encoder_hidden_states: new ort.Tensor('float32', text, [b, 77, d]),
        })
      ).out_sample;
    const sample = wave(b * 4 * h * w, 0.37);
    const text = wave(b * 77 * d, 0.11);
    const out = await run(sample, 500n, text);
    expect(out.dims).toEqual([b, 4, h, w]);
    const values = out.data as Float32Array;
    expect(values.every((v) => Math.abs(v) < 0.99)).toBe(true); // bounded, not saturated
    const differs = (other: Float32Array) => other.some((v, i) => Math.abs(v - values[i]) > 1e-4);
    expect(differs((await run(sample, 100n, text)).data as Float32Array)).toBe(true);
    expect(differs((await run(sample, 500n, wave(b * 77 * d, 0.5))).data as Float32Array)).toBe(true);
    expect(differs((await run(wave(b * 4 * h * w, 0.9), 500n, text)).data as Float32Array)).toBe(true);
    // fixed random weights: the same bytes every time
    const same = Buffer.from(buildBenchUnet().toModelBytes()).equals(buildBenchUnet().toModelBytes());
    expect(same).toBe(true);
  });

  it('replaces only the UNet of the toy SD pack', () => {
    const toy = toySdPackFiles();
    const bench = benchSdPackFiles();
    expect([...bench.keys()]).toEqual([...toy.keys()]);
    const differ = [...bench].filter(([path, bytes]) => !Buffer.from(bytes).equals(toy.get(path)!));
    expect(differ.map(([path]) => path)).toEqual(['unet/model.onnx']);
  });
});
