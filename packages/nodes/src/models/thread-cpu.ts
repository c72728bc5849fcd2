import { readFileSync } from 'node:fs';

/** How this system tells a thread's CPU time; decided by the first call. */
let reader: (() => number | undefined) | undefined;

// the scheduler's se.sum_exec_runtime: schedstat's first field (ns) — a few numbers for the kernel to format,
// half the cost of sched's page of fields (two reads per model call when a loop is measured) — or sched's line
const fromSchedstat = (): number | undefined => {
  const ns = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ', 1)[0]);
  return Number.isFinite(ns) ? ns / 1e6 : undefined;
};
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
    for (const candidate of [fromSchedstat, fromSched]) {
      try {
        if (candidate() !== undefined) {
          reader = candidate;
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
