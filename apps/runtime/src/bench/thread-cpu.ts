import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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

/** The main thread's `se.sum_exec_runtime` (ms, nanosecond resolution) from /proc/…/sched, if the kernel has it. */
function schedRuntimeMs(): number | undefined {
  try {
    const sched = readFileSync(`/proc/self/task/${process.pid}/sched`, 'utf8');
    const match = /^se\.sum_exec_runtime\s*:\s*([\d.]+)/m.exec(sched);
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
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

let useSched: boolean | undefined;

/**
 * CPU time (ms) the process's main thread has used so far, read from /proc (Linux; undefined elsewhere).
 * Unlike wall time or event-loop utilisation it does not grow when other processes take the cores, and
 * unlike process.cpuUsage() it leaves out the worker threads (onnxruntime). The scheduler's own count
 * (`/proc/…/sched`, nanoseconds) where the kernel exposes it, else user + system time in clock ticks (10 ms:
 * compare medians over several runs).
 */
export function mainThreadCpuMs(): number | undefined {
  if (useSched === undefined) useSched = schedRuntimeMs() !== undefined;
  return useSched ? schedRuntimeMs() : statCpuMs();
}
