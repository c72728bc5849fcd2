import { describe, expect, it } from 'vitest';

import type { RunEvent } from '@diffedit/core';

import { BenchUsageError, parseBenchArgs, selectBenchmarks } from '../src/bench/args.js';
import { measureEventLoopLag } from '../src/bench/measure.js';
import { buildBenchReport, headlineFigures, machineInfo } from '../src/bench/bench-report.js';
import type { BenchResult } from '../src/bench/bench-report.js';
import { runBench } from '../src/bench/run.js';
import { medianInterval, perSecond, summarize } from '../src/bench/stats.js';
import { benchSuite, toResult } from '../src/bench/suite.js';
import { mainThreadCpuMs } from '../src/bench/thread-cpu.js';
import { countTypedArrayAllocations } from '../src/bench/typed-array-counter.js';
import { maskBatchRows } from '../src/bench/unet-benches.js';
import { traceRun } from '../src/bench/workflow-benches.js';

const memory = { peakRssMiB: 1, peakHeapUsedMiB: 1, peakArrayBuffersMiB: 0, processMaxRssMiB: 1 };

describe('summarize', () => {
  it('gives the median of an odd count, min, max and mean', () => {
    expect(summarize([5, 1, 9, 3, 7])).toEqual({ median: 5, min: 1, max: 9, mean: 5 });
  });

  it('averages the middle two for an even count and rounds to microseconds', () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, mean: 2.5 });
    expect(summarize([1 / 3]).median).toBe(0.333);
  });

  it('does not reorder the caller’s samples', () => {
    const samples = [3, 1, 2];
    summarize(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('rejects no samples and non-finite ones', () => {
    expect(() => summarize([])).toThrow(/no samples/);
    expect(() => summarize([1, Number.NaN])).toThrow(/NaN is not a finite/);
  });

  it('converts a time per operation to a rate', () => {
    expect(perSecond(40, 16)).toBe(2500);
    expect(perSecond(1, 0)).toBeNull();
  });
});

describe('medianInterval', () => {
  const ranks = (n: number): number[] => Array.from({ length: n }, (_, i) => n - i);

  it('takes the order statistics whose binomial coverage is at least 95 %', () => {
    // n = 31: x(10)..x(22), 1 − 2·P(B ≤ 9) = 0.9706; the next pair inward covers 0.929
    expect(medianInterval(ranks(31))).toEqual({ low: 10, high: 22, coverage: 0.971 });
    // n = 15: x(4)..x(12), 1 − 2·576/32768
    expect(medianInterval(ranks(15))).toEqual({ low: 4, high: 12, coverage: 0.965 });
  });

  it('gives the full range, with its smaller coverage, when no narrower interval reaches it', () => {
    expect(medianInterval([3, 1, 2, 5, 4])).toEqual({ low: 1, high: 5, coverage: 0.938 });
    expect(medianInterval([7])).toEqual({ low: 7, high: 7, coverage: 0 });
  });

  it('narrows for a lower confidence and rejects what it cannot use', () => {
    expect(medianInterval(ranks(31), 0.5)).toMatchObject({ low: 14, high: 18 });
    expect(() => medianInterval([])).toThrow(/0 samples/);
    expect(() => medianInterval([1, Number.POSITIVE_INFINITY])).toThrow(/not a finite/);
  });
});

describe('bench arguments', () => {
  it('reads --quick, --only (comma lists, = form, repeated) and --providers', () => {
    expect(parseBenchArgs([])).toEqual({ quick: false, only: [], help: false });
    expect(
      parseBenchArgs([
        '--quick',
        '--only',
        'workflow,unet-worker',
        '--only=t5',
        '--providers',
        'cpu',
        '--out',
        'b.json',
      ]),
    ).toEqual({
      quick: true,
      only: ['workflow', 'unet-worker', 't5'],
      providers: ['cpu'],
      out: 'b.json',
      help: false,
    });
  });

  it('takes the providers from DIFFEDIT_PROVIDERS unless --providers is given', () => {
    expect(parseBenchArgs([], { DIFFEDIT_PROVIDERS: 'cuda, cpu' }).providers).toEqual(['cuda', 'cpu']);
    expect(parseBenchArgs(['--providers', 'cpu'], { DIFFEDIT_PROVIDERS: 'cuda' }).providers).toEqual(['cpu']);
  });

  it('names the bad argument', () => {
    expect(parseBenchArgs(['--threads', '2', '--spin'])).toMatchObject({ threads: 2, spin: true });
    expect(() => parseBenchArgs(['--threads', '0'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['--fast'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown argument '--fast'/);
    expect(() => parseBenchArgs(['--only'])).toThrow(/--only expects a benchmark name/);
    expect(() => parseBenchArgs(['--only', '--quick'])).toThrow(/--only expects/);
    expect(() => parseBenchArgs(['--providers', ' , '])).toThrow(/--providers expects/);
    expect(() => parseBenchArgs(['--out'])).toThrow(/--out expects a file name/);
  });

  it('selects by exact name or dash-separated prefix, in suite order', () => {
    const names = ['workflow-cold', 'workflow-cached', 'unet-worker-batch1', 'unet-in-process-batch1', 't5'];
    expect(selectBenchmarks(names, [])).toEqual(names);
    expect(selectBenchmarks(names, ['t5', 'workflow'])).toEqual(['workflow-cold', 'workflow-cached', 't5']);
    expect(selectBenchmarks(names, ['unet-worker'])).toEqual(['unet-worker-batch1']);
    expect(selectBenchmarks(names, ['workflow-cold'])).toEqual(['workflow-cold']);
    // an exact name selects only itself, even when it prefixes another
    expect(selectBenchmarks(['loop', 'loop-allocating'], ['loop'])).toEqual(['loop']);
    expect(selectBenchmarks(['a-x', 'b', 'a-y'], ['b', 'a', 'b'])).toEqual(['a-x', 'b', 'a-y']);
  });

  it('rejects a pattern that matches nothing, listing the choices (a prefix must end at a dash)', () => {
    expect(() => selectBenchmarks(['workflow-cold', 't5'], ['work'])).toThrow(
      '--only work: no such benchmark (choose from workflow-cold, t5)',
    );
  });
});

describe('the suite', () => {
  const names = benchSuite().map((b) => b.name);

  it('has unique names covering every benchmark of the brief', () => {
    expect(new Set(names).size).toBe(names.length);
    for (const expected of [
      'workflow-cold',
      'workflow-incremental-target-prompt',
      'workflow-incremental-mask-threshold',
      'workflow-cached',
      'unet-worker-batch1',
      'unet-worker-batch2',
      'unet-worker-mask-batch',
      'unet-in-process-batch1',
      'unet-in-process-batch2',
      'unet-in-process-mask-batch',
      'scheduler-loop',
      't5-sample-16',
      'blip-caption',
      'load-image-memory',
      'scale-out-throughput',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it('sizes the mask batch from GenerateMask’s defaults: 4 prompt slots × 10 maps', () => {
    expect(maskBatchRows()).toBe(40);
  });
});

describe('report', () => {
  it('derives throughput from the median and keeps the checks', () => {
    const result = toResult(
      { name: 'unet-worker-mask-batch', description: 'd' },
      { params: { batch: 40 }, samples: [20, 10, 30], perRepetition: { calls: 1, rows: 40 } },
      memory,
    );
    expect(result).toEqual({
      name: 'unet-worker-mask-batch',
      description: 'd',
      params: { batch: 40 },
      repetitions: 3,
      ms: { median: 20, min: 10, max: 30, mean: 20 },
      throughput: { callsPerSecond: 50, rowsPerSecond: 2000 },
      memory,
      checks: [],
    });
  });

  it('is ok only when every benchmark finished and every check passed', () => {
    const machine = machineInfo({
      onnxruntimeNode: '1.30.0',
      configured: ['cpu'],
      inUse: ['cpu'],
      sessions: 0,
      fallbacks: [],
    });
    const passing: BenchResult = toResult(
      { name: 'a', description: '' },
      { params: {}, samples: [1], checks: [{ name: 'c', ok: true, detail: '' }] },
      memory,
    );
    const failing: BenchResult = { ...passing, name: 'b', checks: [{ name: 'c', ok: false, detail: 'x' }] };
    const at = new Date('2026-01-01T00:00:00Z');
    const good = buildBenchReport(at, true, machine, 12.4, [passing]);
    expect(good).toMatchObject({ format: 'diffedit-studio.bench', version: 1, ok: true, totalMs: 12 });
    expect(good.startedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(buildBenchReport(at, true, machine, 1, [passing, failing]).ok).toBe(false);
    expect(buildBenchReport(at, true, machine, 1, [passing], [{ name: 'x', error: 'boom' }]).ok).toBe(false);
    expect(machine.cores).toBeGreaterThan(0);
    expect(machine.node).toBe(process.version);
  });
});

describe('headline figures', () => {
  it('lifts the tool-readable keys out of the benchmarks that measure them, null for those not run', () => {
    const result = (name: string, details: Record<string, unknown>, samples = [5]): BenchResult =>
      toResult({ name, description: '' }, { params: {}, samples, details }, memory);
    const figures = headlineFigures([
      result('workflow-cold', { modelCalls: { textEncoder: 3, unet: 83, vaeEncoder: 1, vaeDecoder: 1 } }),
      result('workflow-cached', {}, [4, 2, 9]),
      // the paired medians are the headline figures, not the ratios of the two series' medians
      result('overhead-bench-unet', {
        overheadRatio: 1.01,
        overheadRatioPaired: {
          median: 1.05,
          min: 0.9,
          max: 1.2,
          interval95: { low: 1.01, high: 1.08, coverage: 0.971 },
        },
        overheadMsPaired: 61.5,
        rerunTargetPromptRatio: 0.56,
        rerunTargetPromptRatioPaired: 0.52,
      }),
      result('overhead-toy', {
        overheadRatio: 2.4,
        overheadRatioPaired: { median: 2.5, min: 2.2, max: 2.9 },
        mainThreadBusyMedianMs: 120,
      }),
    ]);
    expect(figures).toEqual({
      overhead_ratio: 1.05,
      overhead_ratio_interval: { low: 1.01, high: 1.08, coverage: 0.971 },
      overhead_ms: 61.5,
      overhead_ratio_toy: 2.5,
      non_model_ms_warm: 120,
      unet_calls: 83,
      vae_encodes: 1,
      text_encoder_calls: 3,
      rerun_target_prompt_ratio: 0.52,
      rerun_unchanged_ms: 4,
      api_latency_p99_ms: null,
      rss_growth_pct: null,
      cache_within_budget: null,
      peak_rss_mib_per_megapixel: null,
      scaling: null,
    });
    // where the main thread's CPU time was measured (Linux), that is the figure, not its busy time
    const withCpu = headlineFigures([
      result('overhead-toy', { mainThreadBusyMedianMs: 120, mainThreadCpuMedianMs: 80 }),
    ]);
    expect(withCpu.non_model_ms_warm).toBe(80);
    expect(withCpu.overhead_ratio_interval).toBeNull();
  });
});

describe('traceRun', () => {
  it('lists the nodes that ran and those served from the cache, from the executor events', () => {
    const { onEvent, trace } = traceRun();
    const base = { runId: 'r', time: 0 };
    const events: RunEvent[] = [
      {
        ...base,
        type: 'run:start',
        planned: ['a', 'b', 'c'],
        cached: ['a'],
        targets: ['c'],
        keys: { a: 'ka', b: 'kb', c: 'kc' },
      },
      { ...base, type: 'node:cached', nodeId: 'a', nodeType: 'T', cacheKey: 'ka', artifacts: [] },
      { ...base, type: 'node:start', nodeId: 'b', nodeType: 'T' },
      {
        ...base,
        type: 'node:done',
        nodeId: 'b',
        nodeType: 'T',
        cacheKey: 'kb',
        ms: 12,
        outputs: {},
        artifacts: [],
      },
      { ...base, type: 'node:start', nodeId: 'c', nodeType: 'T' },
      {
        ...base,
        type: 'node:done',
        nodeId: 'c',
        nodeType: 'T',
        cacheKey: 'kc',
        ms: 3,
        outputs: {},
        artifacts: [],
      },
      { ...base, type: 'run:done', ms: 15 },
    ];
    events.forEach(onEvent);
    expect(trace).toEqual({ ran: ['b', 'c'], cached: ['a'], nodeMs: { b: 12, c: 3 } });
  });
});

describe('countTypedArrayAllocations', () => {
  it('counts new typed arrays but not views, and restores the globals', () => {
    const original = Float32Array;
    const count = countTypedArrayAllocations(() => {
      const a = new Float32Array(16);
      const b = new Float64Array(4);
      new Uint8Array(a.buffer);
      a.subarray(2, 4);
      expect(a instanceof Float32Array).toBe(true);
      expect(b).toBeInstanceOf(Float64Array);
    });
    expect(count).toBe(3);
    expect(globalThis.Float32Array).toBe(original);
    expect(countTypedArrayAllocations(() => {})).toBe(0);
  });

  it('restores the globals when the measured code throws', () => {
    const original = Float64Array;
    expect(() =>
      countTypedArrayAllocations(() => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(globalThis.Float64Array).toBe(original);
  });
});

describe('measureEventLoopLag', () => {
  it('sees a blocked event loop', async () => {
    const { result, lag } = await measureEventLoopLag(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const until = Date.now() + 120;
      while (Date.now() < until) {
        // block the loop, as an in-process inference call does
      }
      return 7;
    });
    expect(result).toBe(7);
    expect(lag.maxMs).toBeGreaterThanOrEqual(100);
    expect(lag.samples).toBeGreaterThan(0);
  });
});

describe('runBench', () => {
  it('prints the scheduler loop report on a fresh toy pack, allocation-free with reused buffers', async () => {
    const lines: string[] = [];
    const report = await runBench({ quick: true, only: ['scheduler-loop'], help: false }, (l) =>
      lines.push(l),
    );
    expect(report.benchmarks.map((b) => b.name)).toEqual(['scheduler-loop']);
    const loop = report.benchmarks[0];
    expect(loop.repetitions).toBe(5);
    expect(loop.details).toMatchObject({ typedArraysAllocated: 0, typedArraysPerStep: 0 });
    expect(loop.throughput?.stepsPerSecond).toBeGreaterThan(0);
    expect(report.ok).toBe(true);
    expect(report.failures).toEqual([]);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(lines.some((l) => l.includes('scheduler-loop'))).toBe(true);
  });
});

describe('mainThreadCpuMs', () => {
  it.runIf(process.platform === 'linux')(
    "counts the main thread's own CPU time: it grows while this thread computes",
    () => {
      const before = mainThreadCpuMs();
      expect(before).toBeGreaterThanOrEqual(0);
      // calibrated by CPU used, not by time: compute until the process has used 100 ms more CPU
      const start = process.cpuUsage();
      let x = 0;
      for (;;) {
        for (let i = 0; i < 100_000; i++) x += Math.sqrt(i);
        const used = process.cpuUsage(start);
        if (used.user + used.system >= 100_000) break;
      }
      expect(x).toBeGreaterThan(0);
      expect(mainThreadCpuMs()!).toBeGreaterThan(before!);
    },
  );
});
