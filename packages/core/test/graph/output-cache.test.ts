import { describe, expect, it } from 'vitest';

import {
  byteSizeOf,
  fromByteLevels,
  HELD_ELSEWHERE,
  OutputCache,
  Tensor,
  toByteLevels,
} from '@diffedit/core';

const entry = (bytes: number) => ({ outputs: { data: new Uint8Array(bytes) }, artifacts: [] });

describe('byteSizeOf', () => {
  it('counts typed arrays by byteLength through plain objects, arrays and class instances', () => {
    class Tensor {
      constructor(
        readonly shape: number[],
        readonly data: Float32Array,
      ) {}
    }
    const shared = new Float64Array(10);
    expect(byteSizeOf(new Float32Array(100))).toBe(400);
    expect(byteSizeOf({ a: [new Uint8Array(3), { b: new Int32Array(2) }] })).toBe(11);
    expect(byteSizeOf(new Tensor([2, 5], new Float32Array(10)))).toBe(16 + 40);
    expect(byteSizeOf([shared, shared])).toBe(80);
    expect(byteSizeOf('abcd')).toBe(8);
    const cyclic: Record<string, unknown> = { x: new Uint8Array(5) };
    cyclic.self = cyclic;
    expect(byteSizeOf(cyclic)).toBe(5);
  });

  it('counts the whole buffer a view keeps alive, once for all views of it', () => {
    const big = new Float32Array(1000);
    expect(byteSizeOf(big.subarray(0, 10))).toBe(4000);
    expect(byteSizeOf({ a: big.subarray(0, 10), b: big.subarray(500, 600), c: big })).toBe(4000);
  });

  it('counts a value held elsewhere (a loaded model) as nothing, and does not look inside it', () => {
    let walked = false;
    const model = {
      [HELD_ELSEWHERE]: true,
      weights: new Float32Array(1000),
      get probe(): number {
        walked = true;
        return 0;
      },
    };
    expect(byteSizeOf(model)).toBe(0);
    expect(byteSizeOf({ model, data: new Uint8Array(7) })).toBe(7);
    expect(walked).toBe(false);
    // only `true` marks it
    expect(byteSizeOf({ [HELD_ELSEWHERE]: 'yes', weights: new Float32Array(10) })).toBe(40);
    const cache = new OutputCache(100);
    expect(cache.set('m', { outputs: { model }, artifacts: [] })).toBe(true);
    expect(cache.stats().bytes).toBe(0);
  });
});

describe('OutputCache', () => {
  it('evicts the least recently used entries to stay within its budget', () => {
    const cache = new OutputCache(250);
    cache.set('a', entry(100));
    cache.set('b', entry(100));
    expect(cache.get('a')).toBeDefined(); // a is now more recent than b
    cache.set('c', entry(100));
    expect(cache.keys()).toEqual(['a', 'c']);
    expect(cache.stats()).toMatchObject({ bytes: 200, entries: 2, evictions: 1, hits: 1, misses: 0 });
    expect(cache.get('b')).toBeUndefined();
    expect(cache.stats().misses).toBe(1);
  });

  it('does not keep an entry larger than the whole budget, and clears', () => {
    const cache = new OutputCache(50);
    expect(cache.set('big', entry(51))).toBe(false);
    expect(cache.has('big')).toBe(false);
    cache.set('small', entry(10));
    cache.set('small', entry(20));
    expect(cache.stats().bytes).toBe(20);
    cache.clear();
    expect(cache.stats()).toMatchObject({ bytes: 0, entries: 0 });
  });
});

describe('OutputCache variants per node', () => {
  it('keeps the last N results of each node, least recently used dropped first, other nodes untouched', () => {
    const cache = new OutputCache(1e6, { variantsPerNode: 2 });
    cache.set('invert', entry(10), 'DDIMInvert:invert');
    cache.set('d1', entry(10), 'MaskedDenoise:denoise');
    cache.set('d2', entry(10), 'MaskedDenoise:denoise');
    expect(cache.get('d1')).toBeDefined(); // d1 is now the more recent of the two
    cache.set('d3', entry(10), 'MaskedDenoise:denoise');
    expect(cache.keys().sort()).toEqual(['d1', 'd3', 'invert']);
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 30, evictions: 1, variantsPerNode: 2 });
    // storing a key again is not a new variant
    cache.set('d3', entry(10), 'MaskedDenoise:denoise');
    expect(cache.keys().sort()).toEqual(['d1', 'd3', 'invert']);
    // results stored without a node, and a deleted one, do not count
    cache.set('loose1', entry(10));
    cache.set('loose2', entry(10));
    cache.delete('d1');
    cache.set('d4', entry(10), 'MaskedDenoise:denoise');
    expect(cache.keys().sort()).toEqual(['d3', 'd4', 'invert', 'loose1', 'loose2']);
  });

  it('keeps every variant with 0, 4 by default, and refuses a negative or fractional limit', () => {
    const unlimited = new OutputCache(1e6, { variantsPerNode: 0 });
    const byDefault = new OutputCache(1e6);
    for (let i = 0; i < 20; i++) {
      unlimited.set(`k${i}`, entry(1), 'Text:target');
      byDefault.set(`k${i}`, entry(1), 'Text:target');
    }
    expect(unlimited.stats().entries).toBe(20);
    expect(byDefault.keys()).toEqual(Array.from({ length: 4 }, (_, i) => `k${i + 16}`));
    expect(() => new OutputCache(1e6, { variantsPerNode: -1 })).toThrow(RangeError);
    expect(() => new OutputCache(1e6, { variantsPerNode: 1.5 })).toThrow(RangeError);
  });
});

describe('OutputCache byte accounting', () => {
  const held = (...buffers: ArrayBufferLike[]) => buffers.reduce((sum, b) => sum + b.byteLength, 0);

  it('counts each buffer once however many entries and views hold it, until the last one goes', () => {
    const cache = new OutputCache(1 << 20);
    const shared = new Float32Array(1000); // 4000 bytes, not 8-bit levels
    shared[0] = 0.5;
    const own = new Float32Array(10).fill(0.25);
    cache.set('a', { outputs: { x: shared.subarray(0, 10) }, artifacts: [] });
    cache.set('b', { outputs: { y: shared, z: own }, artifacts: [] });
    expect(cache.stats().bytes).toBe(held(shared.buffer, own.buffer));
    cache.delete('b');
    expect(cache.stats().bytes).toBe(held(shared.buffer));
    cache.set('c', {
      outputs: {},
      artifacts: [{ name: 'f.png', mime: 'image/png', bytes: new Uint8Array(7) }],
    });
    // artifact name/mime strings are estimated at 2 bytes a character
    expect(cache.stats().bytes).toBe(held(shared.buffer) + 7 + 2 * ('f.png'.length + 'image/png'.length));
    cache.delete('a');
    cache.delete('c');
    expect(cache.stats().bytes).toBe(0);
  });

  it('evicts by what eviction frees: a buffer still held by another entry is not counted as freed', () => {
    const buffer = new Uint8Array(100);
    const cache = new OutputCache(150);
    cache.set('a', { outputs: { v: buffer }, artifacts: [] });
    cache.set('b', { outputs: { v: buffer.subarray(0, 5) }, artifacts: [] });
    expect(cache.stats()).toMatchObject({ bytes: 100, entries: 2, evictions: 0 });
    cache.set('c', { outputs: { v: new Uint8Array(60) }, artifacts: [] });
    // a goes first (b still holds the buffer), then b: only then are the 100 bytes free
    expect(cache.keys()).toEqual(['c']);
    expect(cache.stats()).toMatchObject({ bytes: 60, evictions: 2 });
  });

  it('keeps 8-bit-level float32 tensors as bytes and hands back the same values as float32 tensors', () => {
    const cache = new OutputCache(1 << 20);
    const levels = new Tensor([1, 3, 4, 5]);
    for (let i = 0; i < levels.size; i++) levels.data[i] = ((i * 37) % 256) / 255;
    const latent = new Tensor(
      [1, 4, 2, 2],
      Float32Array.from({ length: 16 }, (_, i) => i * 0.1 - 0.7),
    );
    cache.set('k', { outputs: { image: levels, latents: latent, width: 5 }, artifacts: [] });
    // the image is held as one byte a value (+ its 4 dims at 8 bytes); the latent stays float32
    expect(cache.stats().bytes).toBe(levels.size + 4 * 8 + latent.data.buffer.byteLength + 4 * 8 + 8);
    const hit = cache.get('k')!;
    const image = hit.outputs.image as Tensor;
    expect(image).toBeInstanceOf(Tensor);
    expect(image.dims).toEqual(levels.dims);
    expect(image.data).toBeInstanceOf(Float32Array);
    expect(Array.from(image.data)).toEqual(Array.from(levels.data));
    expect(hit.outputs.latents).toBe(latent);
    expect(hit.outputs.width).toBe(5);
  });
});

describe('toByteLevels / fromByteLevels', () => {
  it('round-trips every 8-bit level exactly, as fromUint8-style k/255 floats', () => {
    const all = Float32Array.from({ length: 256 }, (_, k) => k / 255);
    const bytes = toByteLevels(all)!;
    expect(Array.from(bytes)).toEqual(Array.from({ length: 256 }, (_, k) => k));
    expect(fromByteLevels(bytes)).toEqual(all);
  });

  it('refuses values that are not levels (off by one float32 ulp, outside [0,1], NaN, -0)', () => {
    const near = new Float32Array([0, 128 / 255]);
    near[1] = Math.fround(near[1] + 1e-7);
    expect(toByteLevels(near)).toBeUndefined();
    expect(toByteLevels(new Float32Array([1, 2]))).toBeUndefined();
    expect(toByteLevels(new Float32Array([0, Number.NaN]))).toBeUndefined();
    expect(toByteLevels(new Float32Array([1, -0]))).toBeUndefined();
    expect(toByteLevels(new Float32Array([-1 / 255]))).toBeUndefined();
    expect(toByteLevels(new Float32Array(0))).toBeUndefined();
  });
});
