import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

import { schedstatRuntimeMs, settleThreadCpuClock, threadCpuMs } from '../../src/models/thread-cpu.js';

const linux = existsSync('/proc/thread-self/schedstat');

describe('schedstatRuntimeMs', () => {
  const parse = (text: string, length = text.length): number | undefined =>
    schedstatRuntimeMs(Buffer.from(text, 'latin1'), length);

  it('reads the first field (ns) as ms, up to the first non-digit or the bytes read', () => {
    expect(parse('123456789 987 65\n')).toBe(123.456789);
    expect(parse('0 0 0\n')).toBe(0);
    // a runtime of days: still exact in a double
    expect(parse('987654321012345 1 2\n')).toBe(987654321.012345);
    expect(parse('123456789 987 65\n', 4)).toBe(0.001234);
  });

  it('gives undefined when the file starts with no number', () => {
    expect(parse('')).toBeUndefined();
    expect(parse(' 12 3\n')).toBeUndefined();
    expect(parse('123', 0)).toBeUndefined();
  });
});

/** The schedstat file of this process's thread `tid`, as an open descriptor's link shows it. */
const schedstatOf = (tid: string): string => `/proc/${process.pid}/task/${tid}/schedstat`;

describe.runIf(linux)('threadCpuMs', () => {
  it('reads the calling thread’s own schedstat, on the main thread and in a worker', async () => {
    expect(Number.isFinite(threadCpuMs())).toBe(true);
    // the worker reads its own CPU, then reports its thread id and the files its process has open
    const source = `
      const { readdirSync, readlinkSync } = require('node:fs');
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData).then(({ threadCpuMs }) => {
        const ms = threadCpuMs();
        const tid = readlinkSync('/proc/thread-self').split('/').pop();
        const open = readdirSync('/proc/self/fd').flatMap((fd) => {
          try { return [readlinkSync('/proc/self/fd/' + fd)]; } catch { return []; }
        });
        parentPort.postMessage({ ms, tid, open });
      });`;
    const module = new URL('../../dist/models/thread-cpu.js', import.meta.url).href;
    const worker = new Worker(source, { eval: true, workerData: module });
    const reply = await new Promise<{ ms: number; tid: string; open: string[] }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(Number.isFinite(reply.ms)).toBe(true);
    const mainTid = readlinkSync('/proc/thread-self').split('/').pop()!;
    expect(reply.tid).not.toBe(mainTid);
    // each thread keeps its own file open: the worker's, and this thread's (the vitest worker's)
    expect(reply.open).toContain(schedstatOf(reply.tid));
    const open = readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/self/fd/${fd}`)];
      } catch {
        return [];
      }
    });
    expect(open).toContain(schedstatOf(mainTid));
    // a thread that ended closed its file
    expect(open).not.toContain(schedstatOf(reply.tid));
  });
});

describe.runIf(linux)('settleThreadCpuClock', () => {
  /** CPU and wall (ms) around a busy loop of ~`ms`, read with `read`. */
  const around = (read: () => number | undefined, ms: number): { cpu: number; wall: number } => {
    const wallStart = performance.now();
    const cpuStart = read()!;
    const busyStart = performance.now();
    while (performance.now() - busyStart < ms) {
      // busy: the thread runs without a switch, so a plain read of its count falls behind
    }
    const cpuEnd = read()!;
    return { cpu: cpuEnd - cpuStart, wall: performance.now() - wallStart };
  };

  const settled = (): number | undefined => {
    settleThreadCpuClock();
    return threadCpuMs();
  };

  it('never counts more CPU than the wall between its reads, and always some (a plain read can do both)', () => {
    // a thread cannot run longer than the time that passed; a read lagging by a tick shows the time
    // before the first read, or none of the loop; 30 loops catch either every time a plain read was tried
    for (let i = 0; i < 30; i++) {
      const { cpu, wall } = around(settled, 1);
      expect(cpu).toBeGreaterThan(0);
      expect(cpu).toBeLessThanOrEqual(wall);
    }
  });
});
