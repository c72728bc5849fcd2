import { describe, expect, it } from 'vitest';

import { byteSizeOf, OutputCache } from '@diffedit/core';

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
