// Test nodes for the server tests, loaded by the server's run worker (and its main thread, for validation)
// through the `nodeModules` option. Plain JavaScript: worker threads load it without the test's TypeScript.
import { existsSync } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';

import { defineNode } from '@diffedit/core';

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

export const nodes = [TestGateNode, TestHoldThreadNode, TestFileGateNode];
