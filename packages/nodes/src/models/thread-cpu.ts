import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

/** How this system tells a thread's CPU time; decided by the first call. */
let reader: (() => number | undefined) | undefined;

// The scheduler's se.sum_exec_runtime: schedstat's first field (ns), read from a descriptor this thread keeps
// open (/proc/thread-self resolves to the opening thread; module state is per thread): a pread of a few bytes,
// ~2 µs instead of ~15 for opening the file each time — two reads per model call when a loop is measured, and
// the measured figure (the loop's CPU outside session.run) includes them. Sched's line where it is missing.
const schedstatReader = (): (() => number | undefined) => {
  const fd = openSync('/proc/thread-self/schedstat', 'r');
  process.once('exit', () => closeSync(fd));
  const buffer = Buffer.alloc(64);
  return () => schedstatRuntimeMs(buffer, readSync(fd, buffer, 0, buffer.length, 0));
};

/** The runtime (ms) in the first `length` bytes of a schedstat file: its first field, in ns; undefined if none. */
export function schedstatRuntimeMs(bytes: Uint8Array, length: number): number | undefined {
  let ns = 0;
  let digits = 0;
  for (; digits < length; digits++) {
    const c = bytes[digits];
    if (c < 0x30 || c > 0x39) break;
    ns = ns * 10 + (c - 0x30);
  }
  return digits > 0 ? ns / 1e6 : undefined;
}
const fromSched = (): number | undefined => {
  const sched = readFileSync('/proc/thread-self/sched', 'utf8');
  const match = /^se\.sum_exec_runtime\s*:\s*([\d.]+)/m.exec(sched);
  return match === null ? undefined : Number(match[1]);
};

/**
 * CPU time (ms, nanosecond resolution) the calling thread has used so far: the scheduler's
 * `se.sum_exec_runtime` of /proc/thread-self (Linux); undefined elsewhere. Works in worker threads, where
 * process.cpuUsage() would count the whole process.
 */
export function threadCpuMs(): number | undefined {
  if (reader === undefined) {
    reader = () => undefined;
    for (const candidate of [schedstatReader, () => fromSched]) {
      try {
        const read = candidate();
        if (read() !== undefined) {
          reader = read;
          break;
        }
      } catch {
        // not this file here
      }
    }
  }
  try {
    return reader();
  } catch {
    return undefined;
  }
}
