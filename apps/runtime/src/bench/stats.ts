/** Summary of repeated timings in milliseconds (rounded to microseconds so the JSON stays readable). */
export interface TimingSummary {
  median: number;
  min: number;
  max: number;
  mean: number;
}

/** Median / min / max / mean of a non-empty list of samples; the median of an even count averages the middle two. */
export function summarize(samples: readonly number[]): TimingSummary {
  if (samples.length === 0) throw new RangeError('summarize: no samples (a benchmark ran 0 repetitions)');
  for (const s of samples) {
    if (!Number.isFinite(s)) throw new RangeError(`summarize: sample ${s} is not a finite number`);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const mean = sorted.reduce((sum, s) => sum + s, 0) / sorted.length;
  return { median: round3(median), min: round3(sorted[0]), max: round3(sorted.at(-1)!), mean: round3(mean) };
}

/** Operations per second for an operation taking `ms` milliseconds (null when the time is 0). */
export function perSecond(count: number, ms: number): number | null {
  return ms > 0 ? round3((count * 1000) / ms) : null;
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export function bytesToMiB(bytes: number): number {
  return round3(bytes / (1024 * 1024));
}
