import { existsSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

import { threadCpuMs } from '../../src/models/thread-cpu.js';

const linux = existsSync('/proc/thread-self/schedstat');
/** schedstat's first field as the file gives it (ms). */
const fileMs = (): number =>
  Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ', 1)[0]) / 1e6;

describe.runIf(linux)('threadCpuMs', () => {
  it('reads the calling thread’s schedstat runtime (between two reads of the file)', () => {
    for (let i = 0; i < 50; i++) {
      const before = fileMs();
      const ms = threadCpuMs();
      const after = fileMs();
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after);
    }
  });

  it('counts a worker thread’s own CPU, not the thread that started it', async () => {
    // the worker spins until its own reading has moved 100 ms; the starting thread waits meanwhile
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData).then(({ threadCpuMs }) => {
        const start = threadCpuMs();
        let x = 0;
        while (threadCpuMs() - start < 100) for (let i = 0; i < 1e5; i++) x += Math.sqrt(i);
        parentPort.postMessage({ ms: threadCpuMs() - start, x });
      });`;
    const module = new URL('../../dist/models/thread-cpu.js', import.meta.url).href;
    const mainBefore = threadCpuMs()!;
    const worker = new Worker(source, { eval: true, workerData: module });
    const { ms } = await new Promise<{ ms: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(ms).toBeGreaterThanOrEqual(100);
    // the starting thread only waited (its own start-up work for the worker is a few ms)
    expect(threadCpuMs()! - mainBefore).toBeLessThan(ms);
  });
});
