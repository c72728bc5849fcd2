import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

/** How this system tells a thread's CPU time; decided by the first call. */
let reader: (() => number | undefined) | undefined;

// The scheduler's se.sum_exec_runtime: schedstat's first field (ns), read from a descriptor this thread keeps
// open (/proc/thread-self resolves to the opening thread; module state is per thread): a pread of a few bytes,
// ~2 µs instead of ~15 for opening the file each time (read when a measured program starts and ends, inside
// the wall the bench times). Sched's line where it is missing.
let schedstat: { fd: number; buffer: Buffer } | undefined;
/** This thread's schedstat read afresh: its bytes and how many there are (throws where the file is missing). */
const readSchedstat = (): { bytes: Buffer; length: number } => {
  if (schedstat === undefined) {
    const fd = openSync('/proc/thread-self/schedstat', 'r');
    process.once('exit', () => closeSync(fd));
    schedstat = { fd, buffer: Buffer.alloc(64) };
  }
  const { fd, buffer } = schedstat;
  return { bytes: buffer, length: readSync(fd, buffer, 0, buffer.length, 0) };
};
const schedstatReader = (): (() => number | undefined) => {
  readSchedstat();
  return () => {
    const { bytes, length } = readSchedstat();
    return schedstatRuntimeMs(bytes, length);
  };
};

/** schedstat's third field: how many times this thread has been put on a CPU; undefined if unreadable. */
function timeslices(): number | undefined {
  try {
    const { bytes, length } = readSchedstat();
    const slices = Number(bytes.toString('latin1', 0, length).trim().split(' ')[2]);
    return Number.isFinite(slices) ? slices : undefined;
  } catch {
    return undefined;
  }
}

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
 * CPU time (ms) the calling thread has used so far: the scheduler's `se.sum_exec_runtime` of /proc/thread-self
 * (Linux); undefined elsewhere. Works in worker threads, where process.cpuUsage() would count the whole
 * process. Nanoseconds, but as of the thread's last switch or scheduler tick: on a thread that has been busy
 * since, up to a tick (~4 ms) is missing: settleThreadCpuClock first brings it up to date.
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

/** The first sleep of a settle (doubled while no switch came of it): any switch brings the count up to date. */
const SETTLE_MS = 0.02;
const SETTLE_TRIES = 6;
const settleCell = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

/**
 * Brings the calling thread's count in /proc up to date: the thread sleeps until it has been switched out and
 * back in (schedstat's count of timeslices moved), which makes the kernel add the time it ran since its last
 * switch. A 20 µs sleep, doubled when it returned without a switch (it can, when its deadline passes before
 * the thread is put to sleep). Verified here: a 1 ms busy loop between two plain reads measured 0–5.8 ms,
 * between two settled reads 0.96–1.06 ms. Costs ~0.1 ms (the sleep and the timer's slack), so it is only for
 * measurements whose timed window does not include it.
 */
export function settleThreadCpuClock(): void {
  const before = timeslices();
  for (let i = 0, ms = SETTLE_MS; i < SETTLE_TRIES; i++, ms *= 2) {
    Atomics.wait(settleCell, 0, 0, ms);
    if (before === undefined || timeslices() !== before) return;
  }
}
