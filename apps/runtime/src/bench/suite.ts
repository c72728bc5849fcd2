import type { BenchCheck, BenchResult } from './bench-report.js';
import { loadImageMemory } from './image-benches.js';
import { MemorySampler } from './measure.js';
import type { BenchContext } from './resources.js';
import { schedulerLoop, schedulerLoopAllocating } from './scheduler-bench.js';
import { perSecond, summarize } from './stats.js';
import { blipCaption, t5Sampling } from './text-model-benches.js';
import { unetBenchmarks } from './unet-benches.js';
import { memoryTargetPromptRuns, overheadBenchModel, overheadToy, scaling } from './overhead-benches.js';
import {
  workflowCached,
  workflowCold,
  workflowIncrementalMaskThreshold,
  workflowIncrementalTargetPrompt,
} from './workflow-benches.js';

/** What a benchmark function hands back; the suite adds the name, the summary and the memory peak. */
export interface BenchOutcome {
  params: Record<string, unknown>;
  /** Milliseconds of each timed repetition. */
  samples: number[];
  /** Items per repetition for throughput, e.g. { calls: 1, rows: 40 } → callsPerSecond, rowsPerSecond. */
  perRepetition?: Record<string, number>;
  details?: Record<string, unknown>;
  checks?: BenchCheck[];
}

export interface BenchDefinition {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchOutcome>;
}

/** Every benchmark, in the order they run. */
export function benchSuite(): BenchDefinition[] {
  return [
    {
      name: 'workflow-cold',
      description: 'diffedit-prompts.json end to end on a new runtime (empty cache, model sessions opened)',
      run: workflowCold,
    },
    {
      name: 'workflow-incremental-target-prompt',
      description: 'warm runtime, only the target prompt changed (must not re-run DDIMInvert)',
      run: workflowIncrementalTargetPrompt,
    },
    {
      name: 'workflow-incremental-mask-threshold',
      description: 'warm runtime, only GenerateMask.mask_thresholding_ratio changed',
      run: workflowIncrementalMaskThreshold,
    },
    {
      name: 'workflow-cached',
      description: 'warm runtime, nothing changed (every node from the cache)',
      run: workflowCached,
    },
    {
      name: 'overhead-bench-unet',
      description:
        'default workflow on the bench UNet at 256² (warm sessions, empty cache): wall ÷ Σ session.run replayed',
      run: overheadBenchModel,
    },
    {
      name: 'overhead-toy',
      description: 'the same on the toy models at 512²: what the runtime itself costs (main-thread time)',
      run: overheadToy,
    },
    {
      name: 'memory-target-prompt-runs',
      description:
        '52 runs (21 with --quick), a new target prompt each, 256 MiB cache: RSS growth run 10 → 50 (medians of 5-run windows), what moved, cache size',
      run: memoryTargetPromptRuns,
    },
    {
      name: 'scaling',
      description: 'default workflow (toy) at 256², 512², 768², 1024²: run ms, Σ session.run, peak RSS',
      run: scaling,
    },
    {
      name: 'server-api-latency',
      description:
        'GET /api/health answered while the server runs diffedit-prompts.json (api_latency_p99_ms)',
      // loaded when it runs: the server's modules on the heap would make every major GC of the benchmarks
      // before it (the overhead ratio's runs) mark ~10 MB more than the CLI's runs do
      run: async (ctx) => (await import('./server-bench.js')).serverApiLatency(ctx),
    },
    {
      name: 'scale-out-throughput',
      description:
        'serve --queue with 1, 2 and 3 worker processes (1 thread each, toy models): DiffEdit runs per minute',
      run: async (ctx) => (await import('./scale-out-bench.js')).scaleOutThroughput(ctx),
    },
    ...unetBenchmarks(),
    {
      name: 'scheduler-loop',
      description: '50 DDIM steps + DiffEdit blend on a 1×4×64×64 latent in TS, buffers reused (no UNet)',
      run: schedulerLoop,
    },
    {
      name: 'scheduler-loop-allocating',
      description: 'the same loop without out buffers: step() allocates its outputs every step',
      run: schedulerLoopAllocating,
    },
    {
      name: 't5-sample-16',
      description: 'Flan-T5 (toy) samples 16 captions for the PromptT5 instruction (worker mode)',
      run: t5Sampling,
    },
    {
      name: 'load-image-memory',
      description:
        'LoadImage decode of 1, 4 and 16 MP PNGs: peak RSS per megapixel (the pixel limit bounds it)',
      run: loadImageMemory,
    },
    {
      name: 'blip-caption',
      description: 'BLIP (toy) captions the 512×512 demo image (worker mode)',
      run: blipCaption,
    },
  ];
}

/**
 * Milliseconds between the RSS samples taken around every benchmark: the peak of a whole benchmark, not of a
 * step (the scaling bench samples its runs every 10 ms itself). At 10 ms the wake-ups alone took ~1.5 % of a
 * run's main-thread CPU from the benchmarks that measure it.
 */
const SUITE_SAMPLE_MS = 100;

/** Runs one benchmark with a memory sampler around it and summarises its samples. */
export async function runBenchmark(definition: BenchDefinition, ctx: BenchContext): Promise<BenchResult> {
  const sampler = new MemorySampler(SUITE_SAMPLE_MS);
  let memory: BenchResult['memory'] | undefined;
  try {
    const outcome = await definition.run(ctx);
    memory = sampler.stop();
    return toResult(definition, outcome, memory);
  } finally {
    if (memory === undefined) sampler.stop();
  }
}

/** The report entry of a finished benchmark (pure: used by the unit test). */
export function toResult(
  definition: Pick<BenchDefinition, 'name' | 'description'>,
  outcome: BenchOutcome,
  memory: BenchResult['memory'],
): BenchResult {
  const ms = summarize(outcome.samples);
  const throughput =
    outcome.perRepetition === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(outcome.perRepetition).map(([unit, count]) => [
            `${unit}PerSecond`,
            perSecond(count, ms.median),
          ]),
        );
  return {
    name: definition.name,
    description: definition.description,
    params: outcome.params,
    repetitions: outcome.samples.length,
    ms,
    ...(throughput === undefined ? {} : { throughput }),
    memory,
    ...(outcome.details === undefined ? {} : { details: outcome.details }),
    checks: outcome.checks ?? [],
  };
}
