import { createRequire } from 'node:module';
import { availableParallelism, cpus, totalmem } from 'node:os';

import type { MemoryPeak } from './measure.js';
import type { TimingSummary } from './stats.js';
import { bytesToMiB } from './stats.js';

/** A named pass/fail fact a benchmark established (e.g. "the incremental re-run skipped DDIMInvert"). */
export interface BenchCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What one benchmark measured. */
export interface BenchResult {
  name: string;
  description: string;
  params: Record<string, unknown>;
  repetitions: number;
  /** Milliseconds per repetition. */
  ms: TimingSummary;
  /** Rates derived from the median (per second unless the key says otherwise). */
  throughput?: Record<string, number | null>;
  memory: MemoryPeak;
  /** Benchmark-specific facts: nodes that ran, per-node times, event-loop lag, allocations… */
  details?: Record<string, unknown>;
  checks: BenchCheck[];
}

/** The execution providers the benchmarks' model sessions ended on. */
export interface ProviderSummary {
  onnxruntimeNode: string;
  configured: readonly string[];
  /** Distinct providers in use across every session opened. */
  inUse: string[];
  sessions: number;
  /** Why preferred providers were skipped (distinct messages). */
  fallbacks: string[];
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  availableParallelism: number;
  totalMemoryMiB: number;
  platform: string;
  arch: string;
  node: string;
  onnxruntime: ProviderSummary;
}

export interface BenchReport {
  format: 'diffedit-studio.bench';
  version: 1;
  startedAt: string;
  quick: boolean;
  machine: MachineInfo;
  totalMs: number;
  /** True when every selected benchmark finished and every check passed. */
  ok: boolean;
  benchmarks: BenchResult[];
  /** Benchmarks that threw, with the error message. */
  failures: BenchFailure[];
}

export interface BenchFailure {
  name: string;
  error: string;
}

export function machineInfo(onnxruntime: ProviderSummary): MachineInfo {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    availableParallelism: availableParallelism(),
    totalMemoryMiB: Math.round(bytesToMiB(totalmem())),
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    onnxruntime,
  };
}

/** The installed onnxruntime-node version (read from its package.json; 'unknown' if it cannot be found). */
export function onnxruntimeVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require('onnxruntime-node/package.json') as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function buildBenchReport(
  startedAt: Date,
  quick: boolean,
  machine: MachineInfo,
  totalMs: number,
  benchmarks: BenchResult[],
  failures: BenchFailure[] = [],
): BenchReport {
  return {
    format: 'diffedit-studio.bench',
    version: 1,
    startedAt: startedAt.toISOString(),
    quick,
    machine,
    totalMs: Math.round(totalMs),
    ok: failures.length === 0 && benchmarks.every((b) => b.checks.every((c) => c.ok)),
    benchmarks,
    failures,
  };
}

/**
 * The figures tools read at the top level of the report (docs/performance.md); null when the benchmark that
 * measures one was not selected or failed.
 */
export interface HeadlineFigures {
  /**
   * workflow wall ÷ Σ session.run of the same calls replayed (bench UNet, 256²): the median over the pairs of a
   * run and the replay right after it (the machine's speed drifts across a bench; the ratio of the two series'
   * medians is in details.overheadRatio)
   */
  overhead_ratio: number | null;
  /**
   * where the median behind overhead_ratio lies, from the bench's own pairs: the distribution-free interval
   * of order statistics with coverage ≥ 95 % (details.overheadRatioPaired.interval95)
   */
  overhead_ratio_interval: { low: number; high: number; coverage: number } | null;
  /** the runtime's own ms a run behind overhead_ratio: the median over pairs of workflow wall − replay */
  overhead_ms: number | null;
  /** the same on the toy models (512²) */
  overhead_ratio_toy: number | null;
  /** main-thread CPU ms of a warm run (toy, 512²; Linux, from /proc) — else its busy time (event-loop utilisation) */
  non_model_ms_warm: number | null;
  /** session calls of one cold run of the default workflow (toy, defaults) */
  unet_calls: number | null;
  vae_encodes: number | null;
  text_encoder_calls: number | null;
  /**
   * re-run after changing only the target prompt ÷ the full run (bench UNet, 256²): the median over the
   * repetitions of each re-run ÷ the run just before it (ratio of medians: details.rerunTargetPromptRatio)
   */
  rerun_target_prompt_ratio: number | null;
  /** median of an unchanged re-run (every node from the cache, 0 model calls) */
  rerun_unchanged_ms: number | null;
  /** p99 latency of the server API while a workflow runs (the server-api-latency benchmark) */
  api_latency_p99_ms: number | null;
  /** RSS at run 50 vs run 10 of the target-prompt runs (each the median of a window of runs around it), in percent */
  rss_growth_pct: number | null;
  cache_within_budget: boolean | null;
  peak_rss_mib_per_megapixel: number | null;
  scaling: unknown[] | null;
}

/** The median of a {median, min, max} summary (overheadRatioPaired), or null. */
function pairedMedian(summary: unknown): number | null {
  if (typeof summary !== 'object' || summary === null) return null;
  const median = (summary as { median?: unknown }).median;
  return typeof median === 'number' ? median : null;
}

/** The interval95 of overheadRatioPaired, or null. */
function pairedInterval(summary: unknown): HeadlineFigures['overhead_ratio_interval'] {
  if (typeof summary !== 'object' || summary === null) return null;
  const interval = (summary as { interval95?: unknown }).interval95;
  if (typeof interval !== 'object' || interval === null) return null;
  const { low, high, coverage } = interval as Record<string, unknown>;
  return typeof low === 'number' && typeof high === 'number' && typeof coverage === 'number'
    ? { low, high, coverage }
    : null;
}

export function headlineFigures(results: readonly BenchResult[]): HeadlineFigures {
  const details = (name: string): Record<string, unknown> | undefined =>
    results.find((r) => r.name === name)?.details;
  const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);
  const calls = details('workflow-cold')?.modelCalls as Record<string, unknown> | undefined;
  const bench = details('overhead-bench-unet');
  const toy = details('overhead-toy');
  const memory = details('memory-target-prompt-runs');
  const scaling = details('scaling');
  const cached = results.find((r) => r.name === 'workflow-cached');
  return {
    overhead_ratio: pairedMedian(bench?.overheadRatioPaired),
    overhead_ratio_interval: pairedInterval(bench?.overheadRatioPaired),
    overhead_ms: num(bench?.overheadMsPaired),
    overhead_ratio_toy: pairedMedian(toy?.overheadRatioPaired),
    // main-thread CPU where the OS reports it per thread (Linux), else its busy time
    non_model_ms_warm: num(toy?.mainThreadCpuMedianMs) ?? num(toy?.mainThreadBusyMedianMs),
    unet_calls: num(calls?.unet),
    vae_encodes: num(calls?.vaeEncoder),
    text_encoder_calls: num(calls?.textEncoder),
    rerun_target_prompt_ratio: num(bench?.rerunTargetPromptRatioPaired),
    rerun_unchanged_ms: cached === undefined ? null : cached.ms.median,
    api_latency_p99_ms: num(details('server-api-latency')?.api_latency_p99_ms),
    rss_growth_pct: num(memory?.rssGrowthPct),
    cache_within_budget: typeof memory?.cacheWithinBudget === 'boolean' ? memory.cacheWithinBudget : null,
    peak_rss_mib_per_megapixel: num(scaling?.peakRssMiBPerMegapixel),
    scaling: Array.isArray(scaling?.table) ? (scaling.table as unknown[]) : null,
  };
}
