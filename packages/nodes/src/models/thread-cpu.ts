import { readFileSync } from 'node:fs';

let available: boolean | undefined;

/**
 * CPU time (ms, nanosecond resolution) the calling thread has used so far: the scheduler's
 * `se.sum_exec_runtime` of /proc/thread-self (Linux); undefined elsewhere. Works in worker threads, where
 * process.cpuUsage() would count the whole process.
 */
export function threadCpuMs(): number | undefined {
  if (available === false) return undefined;
  try {
    const sched = readFileSync('/proc/thread-self/sched', 'utf8');
    const match = /^se\.sum_exec_runtime\s*:\s*([\d.]+)/m.exec(sched);
    available = match !== null;
    return match === null ? undefined : Number(match[1]);
  } catch {
    available = false;
    return undefined;
  }
}
