// Test nodes for the server tests, loaded by the server's run worker (and its main thread, for validation)
// through the `nodeModules` option. Plain JavaScript: worker threads load it without the test's TypeScript.
import { existsSync } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';

import { defineNode, Tensor } from '@diffedit/core';

/** Gates opened so far (a message may arrive before the node reaches its gate). */
const opened = new Set();
const waiting = new Map();
const channel = new BroadcastChannel('diffedit-test-gates');
channel.unref();
channel.onmessage = (message) => {
  const name = message.data?.open;
  if (typeof name !== 'string') return;
  opened.add(name);
  waiting.get(name)?.();
};

/**
 * Waits until the test opens the gate named by its `name` param (openGate in harness.ts), so a run stays
 * "running" exactly as long as a test needs, whatever the machine's speed. Its progress(0, 1) tells the test it
 * has reached the gate; a name starting with "warn" raises a warning first.
 */
export const TestGateNode = defineNode({
  type: 'TestGate',
  version: 1,
  title: 'Test gate',
  category: 'test',
  description: 'Waits until the test opens the gate named by its param, then outputs the name.',
  output: true,
  inputs: {},
  params: { name: { kind: 'string', default: 'gate' } },
  outputs: { text: { type: 'TEXT' } },
  async run(ctx, _inputs, params) {
    if (params.name.startsWith('warn'))
      ctx.warn({ code: 'test_warning', field: 'name', message: `gate ${params.name} warns` });
    await new Promise((resolve, reject) => {
      ctx.signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true });
      if (opened.has(params.name)) return resolve();
      waiting.set(params.name, resolve);
      ctx.progress(0, 1);
    });
    waiting.delete(params.name);
    ctx.progress(1, 1);
    return { text: params.name };
  },
});

/**
 * Holds its thread synchronously — no await, as heavy tensor code would — until the file named by `flag` exists:
 * the server must keep answering meanwhile. Its progress(0, 1) says it has started holding.
 */
export const TestHoldThreadNode = defineNode({
  type: 'TestHoldThread',
  version: 1,
  title: 'Test: hold the thread',
  category: 'test',
  description: 'Blocks its thread (no await) until the flag file exists.',
  output: true,
  inputs: {},
  params: { flag: { kind: 'string', default: '' } },
  outputs: { text: { type: 'TEXT' } },
  async run(ctx, _inputs, params) {
    ctx.progress(0, 1);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (!existsSync(params.flag)) Atomics.wait(pause, 0, 0, 5);
    return { text: 'released' };
  },
});

/**
 * Waits (without holding its thread) until the file named by `flag` exists: a gate that works across processes
 * (the queue workers of the scale-out tests). Its progress(0, 1) says it has reached the gate.
 */
export const TestFileGateNode = defineNode({
  type: 'TestFileGate',
  version: 1,
  title: 'Test: wait for a file',
  category: 'test',
  description: 'Waits until the flag file exists, then outputs its name.',
  output: true,
  inputs: {},
  params: { flag: { kind: 'string', default: '' } },
  outputs: { text: { type: 'TEXT' } },
  async run(ctx, _inputs, params) {
    ctx.progress(0, 1);
    while (!existsSync(params.flag)) {
      if (ctx.signal.aborted) throw new Error('cancelled');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    ctx.progress(1, 1);
    return { text: params.flag };
  },
});

/**
 * An IMAGE and a MASK of the requested size, both computed from the pixel position (previews.test.ts computes
 * the same): red grows left to right, green top to bottom, blue along the diagonal; the mask is 1 inside the
 * disc of radius height/3 around the centre. `batch` images are stacked (all the same).
 */
export const TestPatternNode = defineNode({
  type: 'TestPattern',
  version: 1,
  title: 'Test pattern',
  category: 'test',
  description: 'An IMAGE and a MASK computed from the pixel position.',
  inputs: {},
  params: {
    width: { kind: 'int', default: 64, min: 1, max: 4096 },
    height: { kind: 'int', default: 32, min: 1, max: 4096 },
    batch: { kind: 'int', default: 1, min: 1, max: 4 },
  },
  outputs: { image: { type: 'IMAGE' }, mask: { type: 'MASK' }, label: { type: 'TEXT' } },
  async run(_ctx, _inputs, { width, height, batch }) {
    const image = new Tensor([batch, 3, height, width]);
    const mask = new Tensor([batch, 1, height, width]);
    const plane = width * height;
    for (let b = 0; b < batch; b++)
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) {
          const [r, g, bl, m] = testPattern(x, y, width, height);
          const p = y * width + x;
          image.data[b * 3 * plane + p] = r;
          image.data[b * 3 * plane + plane + p] = g;
          image.data[b * 3 * plane + 2 * plane + p] = bl;
          mask.data[b * plane + p] = m;
        }
    return { image, mask, label: `${width}x${height}` };
  },
});

/** The pattern's [red, green, blue, mask] at pixel (x, y). */
export function testPattern(x, y, width, height) {
  const r = width > 1 ? x / (width - 1) : 0;
  const g = height > 1 ? y / (height - 1) : 0;
  const b = width + height > 2 ? (x + y) / (width + height - 2) : 0;
  const dx = x + 0.5 - width / 2;
  const dy = y + 0.5 - height / 2;
  const m = dx * dx + dy * dy <= (height / 3) ** 2 ? 1 : 0;
  return [r, g, b, m];
}

export const nodes = [TestGateNode, TestHoldThreadNode, TestPatternNode, TestFileGateNode];
