// `npm run bench -- --pool FILE…`: the overhead ratio's run/replay pairs of several saved reports pooled into
// one median with its interval. One bench places the ratio to about ±0.03; a pool of a few benches is what
// can tell 1.031 from 1.03 (docs/performance.md).
import { readFile } from 'node:fs/promises';

import { BenchUsageError } from './args.js';
import { MEDIAN_INTERVAL_MAX_SAMPLES, medianInterval, summarize } from './stats.js';
import type { MedianInterval } from './stats.js';

/** The benchmark whose pairs are pooled: the headline `overhead_ratio`'s. */
export const POOLED_BENCHMARK = 'overhead-bench-unet';

export interface BenchPairs {
  readonly file: string;
  readonly pairs: readonly number[];
}

export interface PooledBench {
  readonly file: string;
  readonly pairs: number;
  readonly median: number;
  readonly interval95: MedianInterval;
}

export interface PooledRatio {
  readonly benchmark: string;
  readonly files: number;
  readonly pairs: number;
  readonly median: number;
  readonly mean: number;
  readonly interval95: MedianInterval;
  readonly benches: readonly PooledBench[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The pairs one report holds (`details.overheadRatioPaired.pairs` of its overhead-bench-unet entry); a report
 * without them is an error naming the file and what it lacks.
 */
export function pairsOfReport(report: unknown, file: string): BenchPairs {
  const benchmarks = isRecord(report) ? report.benchmarks : undefined;
  if (!Array.isArray(benchmarks)) throw new BenchUsageError(`${file}: not a bench report (no "benchmarks")`);
  const entry: unknown = benchmarks.find((b) => isRecord(b) && b.name === POOLED_BENCHMARK);
  if (entry === undefined) {
    throw new BenchUsageError(`${file}: the report has no ${POOLED_BENCHMARK} benchmark`);
  }
  const details = isRecord(entry) ? entry.details : undefined;
  const paired = isRecord(details) ? details.overheadRatioPaired : undefined;
  const pairs = isRecord(paired) ? paired.pairs : undefined;
  if (!Array.isArray(pairs) || pairs.length === 0) {
    throw new BenchUsageError(
      `${file}: ${POOLED_BENCHMARK} has no overheadRatioPaired.pairs (a report from before they were kept)`,
    );
  }
  if (!pairs.every((p): p is number => typeof p === 'number' && Number.isFinite(p) && p > 0)) {
    throw new BenchUsageError(
      `${file}: overheadRatioPaired.pairs holds a value that is not a positive number`,
    );
  }
  return { file, pairs };
}

/** Every report's pairs in one sample: its median, mean and 95 % interval, and each report's own. */
export function poolPairs(reports: readonly BenchPairs[]): PooledRatio {
  if (reports.length === 0) throw new BenchUsageError('--pool expects at least one report file');
  const all = reports.flatMap((r) => r.pairs);
  if (all.length > MEDIAN_INTERVAL_MAX_SAMPLES) {
    throw new BenchUsageError(
      `--pool: ${all.length} pairs in all, at most ${MEDIAN_INTERVAL_MAX_SAMPLES} can be pooled`,
    );
  }
  const pooled = summarize(all);
  return {
    benchmark: POOLED_BENCHMARK,
    files: reports.length,
    pairs: all.length,
    median: pooled.median,
    mean: pooled.mean,
    interval95: medianInterval(all),
    benches: reports.map((r) => ({
      file: r.file,
      pairs: r.pairs.length,
      median: summarize(r.pairs).median,
      interval95: medianInterval(r.pairs),
    })),
  };
}

/** Reads the saved reports (`--out` files) and pools their pairs; unreadable files are errors naming them. */
export async function poolReportFiles(files: readonly string[]): Promise<PooledRatio> {
  const reports: BenchPairs[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new BenchUsageError(
        `${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      );
    }
    let report: unknown;
    try {
      report = JSON.parse(text) as unknown;
    } catch {
      throw new BenchUsageError(`${file}: not JSON (a report written by --out is)`);
    }
    reports.push(pairsOfReport(report, file));
  }
  return poolPairs(reports);
}
