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
