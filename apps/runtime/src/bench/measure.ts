import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

import { bytesToMiB, round3 } from './stats.js';

/** Peak memory seen while a benchmark ran (sampled; worker threads count in the process RSS). */
export interface MemoryPeak {
  peakRssMiB: number;
  peakHeapUsedMiB: number;
  peakArrayBuffersMiB: number;
  /** The process's RSS high-water mark so far (getrusage maxrss): an upper bound that never goes down. */
  processMaxRssMiB: number;
}

/**
 * Samples process memory on a timer and at explicit points (`sample()`, called between repetitions, because a
 * blocking in-process inference call starves the timer). The timer reads the RSS only; the heap figures come
 * from the explicit points. Each timer wake-up costs the main thread CPU (measured here: ~150 µs a wake-up on
 * an idle loop, 23 ms per 1.5 s at 10 ms), so a sampler around CPU-timed work should tick slowly.
 */
export class MemorySampler {
  private rss = 0;
  private heap = 0;
  private arrayBuffers = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 10) {
    this.sample();
    this.timer = setInterval(() => {
      this.rss = Math.max(this.rss, process.memoryUsage.rss());
    }, intervalMs);
    this.timer.unref();
  }

  sample(): void {
    const m = process.memoryUsage();
    this.rss = Math.max(this.rss, m.rss);
    this.heap = Math.max(this.heap, m.heapUsed);
    this.arrayBuffers = Math.max(this.arrayBuffers, m.arrayBuffers);
  }

  stop(): MemoryPeak {
    clearInterval(this.timer);
    this.sample();
    return {
      peakRssMiB: bytesToMiB(this.rss),
      peakHeapUsedMiB: bytesToMiB(this.heap),
      peakArrayBuffersMiB: bytesToMiB(this.arrayBuffers),
      processMaxRssMiB: bytesToMiB(process.resourceUsage().maxRSS * 1024),
    };
  }
}

/** Runs `fn` `warmup` times untimed, then `repetitions` times; returns each repetition's milliseconds. */
export async function timeRepetitions(
  repetitions: number,
  fn: (repetition: number) => Promise<void> | void,
  options: { warmup?: number; sampler?: MemorySampler } = {},
): Promise<number[]> {
  for (let i = 0; i < (options.warmup ?? 0); i++) await fn(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const start = performance.now();
    await fn(i);
    samples.push(performance.now() - start);
    options.sampler?.sample();
  }
  return samples;
}

/** How late the event loop's timers ran while something was going on. */
export interface EventLoopLag {
  /** Largest delay seen, including up to one resolution of timer granularity. */
  maxMs: number;
  p99Ms: number;
  meanMs: number;
  resolutionMs: number;
  samples: number;
}

/** Measures event-loop delay (node's monitorEventLoopDelay histogram) while `fn` runs. */
export async function measureEventLoopLag<T>(
  fn: () => Promise<T>,
  resolutionMs = 5,
): Promise<{ result: T; lag: EventLoopLag }> {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  let result: T;
  try {
    result = await fn();
    // one more tick so a block at the very end is recorded
    await new Promise((resolve) => setTimeout(resolve, resolutionMs * 2));
  } finally {
    histogram.disable();
  }
  const ms = (ns: number): number => round3(ns / 1e6);
  return {
    result,
    lag: {
      maxMs: ms(histogram.max),
      p99Ms: ms(histogram.percentile(99)),
      meanMs: ms(histogram.mean),
      resolutionMs,
      samples: histogram.count,
    },
  };
}
