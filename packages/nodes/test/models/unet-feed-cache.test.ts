import { Tensor } from '@diffedit/core';
import { describe, expect, it } from 'vitest';

import type { UnetIo } from '../../src/models/unet-call.js';
import { UnetFeedCache, unetFeeds } from '../../src/models/unet-call.js';
import { toOrtFeeds } from '../../src/models/ort-session.js';

const io = (sampleType: 'float32' | 'float16'): UnetIo => ({
  folder: 'unet-test',
  sampleType,
  hiddenType: 'float32',
  stepSpec: { name: 'timestep', type: 'int64', shape: ['batch'] },
  outName: 'out_sample',
});

describe('UnetFeedCache', () => {
  it('feeds what unetFeeds feeds, with one wire tensor per reused array and per timestep', () => {
    const cache = new UnetFeedCache(io('float32'));
    const x = new Tensor([2, 4, 2, 2]);
    const h = new Tensor([2, 3, 5]);
    h.data.forEach((_, i, a) => (a[i] = i / 7));
    const first = cache.feedsAt(x, 981, h);
    expect(first).toEqual(unetFeeds(io('float32'), x, [981, 981], h, false, false));
    // the loop refills x between steps: the same wire tensors (and onnxruntime tensors) see the new values
    x.data.fill(0.5);
    const second = cache.feedsAt(x, 981, h);
    expect(second.sample).toBe(first.sample);
    expect(second.encoder_hidden_states).toBe(first.encoder_hidden_states);
    expect(second.timestep).toBe(first.timestep);
    expect(Array.from(second.sample.data as Float32Array)).toEqual(new Array(32).fill(0.5));
    const ort = toOrtFeeds(second);
    expect(toOrtFeeds(first).sample).toBe(ort.sample);
    expect(Array.from(ort.sample.data as Float32Array)).toEqual(new Array(32).fill(0.5));
    // another timestep, another array, the same array under other dims: other wire tensors
    const third = cache.feedsAt(x, 961, h);
    expect(third.timestep).not.toBe(first.timestep);
    expect(Array.from(third.timestep.data as BigInt64Array)).toEqual([961n, 961n]);
    expect(cache.feedsAt(x, 981, h).timestep).toBe(first.timestep);
    const y = new Tensor([2, 4, 2, 2]);
    expect(cache.feedsAt(y, 981, h).sample).not.toBe(first.sample);
    const reshaped = x.reshape([2, 4, 4, 1]);
    const fourth = cache.feedsAt(reshaped, 981, h);
    expect(fourth.sample.dims).toEqual([2, 4, 4, 1]);
    expect(fourth.sample.data).toBe(x.data);
  });

  it('converts a float16 input on every call (its copy would not follow the array)', () => {
    const cache = new UnetFeedCache(io('float16'));
    const x = new Tensor([1, 4, 2, 2]);
    const h = new Tensor([1, 3, 5]);
    const first = cache.feedsAt(x, 1, h);
    x.data.fill(1);
    const second = cache.feedsAt(x, 1, h);
    expect(second.sample).not.toBe(first.sample);
    expect(Array.from(second.sample.data as Uint16Array)).toEqual(new Array(16).fill(0x3c00));
    expect(second).toEqual(unetFeeds(io('float16'), x, [1], h, false, false));
  });

  it('shares one timestep tensor per layout and value between the loops of a thread (feedsAt)', () => {
    const x = new Tensor([2, 4, 2, 2]);
    const h = new Tensor([2, 3, 5]);
    const first = new UnetFeedCache(io('float32')).feedsAt(x, 981, h);
    expect(first).toEqual(unetFeeds(io('float32'), x, [981, 981], h, false, false));
    // a later loop (another cache, other arrays) gets the same timestep tensor, and so its onnxruntime tensor
    const later = new UnetFeedCache(io('float32'));
    const y = new Tensor([2, 4, 2, 2]);
    const again = later.feedsAt(y, 981, h);
    expect(again.timestep).toBe(first.timestep);
    expect(toOrtFeeds(again).timestep).toBe(toOrtFeeds(first).timestep);
    expect(again.sample.data).toBe(y.data);
    expect(later.feedsAt(y, 981, h).timestep).toBe(first.timestep);
    // one row, another value: tensors of their own
    const one = later.feedsAt(new Tensor([1, 4, 2, 2]), 981, new Tensor([1, 3, 5]));
    expect(Array.from(one.timestep.data as BigInt64Array)).toEqual([981n]);
    expect(Array.from(later.feedsAt(y, 1, h).timestep.data as BigInt64Array)).toEqual([1n, 1n]);
    // another declared layout of the timestep (one shared float value): its own tensor, as timestepFeed makes it
    const shared: UnetIo = { ...io('float32'), stepSpec: { name: 'timestep', type: 'float32', shape: [1] } };
    const sharedFeeds = new UnetFeedCache(shared).feedsAt(x, 981, h);
    expect(sharedFeeds.timestep).not.toBe(first.timestep);
    expect(sharedFeeds.timestep).toEqual(unetFeeds(shared, x, [981, 981], h, false, false).timestep);
    expect(sharedFeeds.timestep.dims).toEqual([1]);
  });
});
