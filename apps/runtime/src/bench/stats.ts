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

/** An interval for the median of what the samples are drawn from, and the probability that it holds it. */
export interface MedianInterval {
  low: number;
  high: number;
  coverage: number;
}

/** The most samples medianInterval takes (0.5ⁿ, its first binomial term, must stay a normal double). */
export const MEDIAN_INTERVAL_MAX_SAMPLES = 1000;

/**
 * The distribution-free interval for a median from order statistics: [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] with the largest k whose
 * coverage, 1 − 2·P(B ≤ k − 1) for B ~ Binomial(n, ½), is still at least `confidence` (the full range, with
 * its smaller coverage, when even that falls short). It tells whether a bench's median is clear of a target.
 */
export function medianInterval(samples: readonly number[], confidence = 0.95): MedianInterval {
  const n = samples.length;
  if (n === 0 || n > MEDIAN_INTERVAL_MAX_SAMPLES) {
    throw new RangeError(`medianInterval: ${n} samples (1 to ${MEDIAN_INTERVAL_MAX_SAMPLES})`);
  }
  if (!samples.every(Number.isFinite))
    throw new RangeError('medianInterval: a sample is not a finite number');
  const sorted = [...samples].sort((a, b) => a - b);
  let k = 1;
  let mass = 0.5 ** n; // P(B = k − 1)
  let below = mass; // P(B ≤ k − 1)
  // step inward while the narrower interval still covers the median with the asked probability
  while (k + 1 <= n - k) {
    const next = (mass * (n - k + 1)) / k; // P(B = k)
    if (1 - 2 * (below + next) < confidence) break;
    mass = next;
    below += next;
    k++;
  }
  return { low: round3(sorted[k - 1]), high: round3(sorted[n - k]), coverage: round3(1 - 2 * below) };
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
