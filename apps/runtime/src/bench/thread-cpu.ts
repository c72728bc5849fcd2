import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

import { threadCpuMs } from '@diffedit/nodes';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** The main thread's user + system time (ms) from /proc/…/stat, in clock ticks (10 ms). */
function statCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // the fields after "(comm) ": state is field 3, utime 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / clockTicks() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms) the process's main thread has used so far, read from /proc (Linux; undefined elsewhere); call it
 * on the main thread. Unlike wall time or event-loop utilisation it does not grow when other processes take the
 * cores, and unlike process.cpuUsage() it leaves out the worker threads (onnxruntime). The scheduler's own count
 * (threadCpuMs: nanoseconds) where the kernel exposes it, else user + system time in clock ticks (10 ms: compare
 * medians over several runs). Read on a busy thread, the count lags by up to a scheduler tick: the bench settles
 * it first (settleThreadCpuClock) where the sleep is outside what it times.
 */
export function mainThreadCpuMs(): number | undefined {
  return threadCpuMs() ?? statCpuMs();
}

/**
 * CPU time (ms) of each thread of this process, by thread id, with its name: exact for threads that are not
 * running at the time (the count is updated at each switch), up to a tick behind for those that are.
 */
export type ThreadCpu = Map<number, { name: string; ms: number }>;

/** Every thread's CPU so far from /proc/self/task/<tid>/schedstat (Linux; undefined elsewhere). */
export function threadCpuTimes(): ThreadCpu | undefined {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  const out: ThreadCpu = new Map();
  for (const tid of tids) {
    try {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      if (Number.isFinite(ns)) out.set(Number(tid), { name, ms: ns / 1e6 });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/**
 * CPU used between two snapshots, in groups: the main thread, libvips' workers (sharp), the threads that
 * existed before `startedAfter` was taken (V8's platform threads — the optimising compiler's and the garbage collector's helpers — and
 * libuv's pool) and those started since (the model worker and onnxruntime's intra-op pools).
 */
export function threadCpuGroups(
  before: ThreadCpu,
  after: ThreadCpu,
  existing: ReadonlySet<number>,
): { main: number; libvips: number; earlierThreads: number; laterThreads: number } {
  const groups = { main: 0, libvips: 0, earlierThreads: 0, laterThreads: 0 };
  for (const [tid, { name, ms }] of after) {
    const used = ms - (before.get(tid)?.ms ?? 0);
    if (tid === process.pid) groups.main += used;
    else if (name.startsWith('libvips')) groups.libvips += used;
    else if (existing.has(tid)) groups.earlierThreads += used;
    else groups.laterThreads += used;
  }
  return groups;
}
