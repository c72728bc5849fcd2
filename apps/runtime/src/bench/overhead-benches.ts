import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';

import {
  defaultIntraOpThreads,
  forgetRememberedSourceRows,
  ModelManagerKey,
  settleThreadCpuClock,
} from '@diffedit/nodes';
import type { SessionCreateOptions } from '@diffedit/nodes';

import { applyOverrides } from '../overrides.js';
import type { ParamOverride } from '../overrides.js';
import { createRuntime } from '../runtime.js';
import type { Runtime } from '../runtime.js';
import type { BenchCheck } from './bench-report.js';
import { MemorySampler } from './measure.js';
import {
  breakdownGrowthMiB,
  breakdownSeries,
  MajorGcCounter,
  memoryBreakdown,
  runsWithMajorGc,
  windowGrowth,
  windowRuns,
} from './memory-breakdown.js';
import type { MemoryBreakdown } from './memory-breakdown.js';
import { mainThreadCpuMs, threadCpuGroups, threadCpuTimes } from './thread-cpu.js';
import type { ThreadCpu } from './thread-cpu.js';
import { callsByComponent, ModelCallRecorder, openReplay, sessionRunByCallShape } from './model-calls.js';
import type { BenchContext } from './resources.js';
import { bytesToMiB, medianInterval, round3, summarize } from './stats.js';
import type { BenchOutcome } from './suite.js';
import { loadDocument, nodeOfType, runTraced } from './workflow-benches.js';
import type { WorkflowDocument } from './workflow-benches.js';

/** The folder the bench writes the toy SD pack with the bench UNet into (see @diffedit/toy-models). */
export const BENCH_MODEL = 'bench-sd';

const median = (samples: readonly number[]): number => summarize(samples).median;

/** The median of each node's figure over the runs that have it. */
function medianByNode(runs: readonly Record<string, number>[]): Record<string, number> {
  const ids = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    ids.map((id) => [id, round3(median(runs.flatMap((r) => (id in r ? [r[id]] : []))))]),
  );
}

/**
 * Cold runs before the measured ones: the first opens the sessions, the others let the JIT settle (functions
 * called a few times a run reach V8's optimising tier only after several runs: with one real warm-up run,
 * V8's compiler threads still took ~15 ms of CPU per measured run on the bench UNet, beside the sessions).
 */
const WARM_UP_RUNS = 8;

/** Untimed runs that read where the CPU goes (their medians are in details). */
const PROFILED_RUNS = 3;

/** The default workflow on `model` with its image loaded at `size`², everything else at its defaults. */
function sizedWorkflow(workflow: WorkflowDocument, path: string, model: string, size: number): unknown {
  const load = nodeOfType(workflow.nodes, 'LoadDiffusionModel', path).id;
  const image = nodeOfType(workflow.nodes, 'LoadImage', path).id;
  const overrides: ParamOverride[] = [
    { nodeId: load, param: 'model', value: model },
    { nodeId: image, param: 'width', value: size },
    { nodeId: image, param: 'height', value: size },
  ];
  return applyOverrides(workflow.document, overrides);
}

/** The Text node feeding MaskedDenoise's prompt (the target prompt). */
function targetNode(workflow: WorkflowDocument, path: string): string {
  const denoise = nodeOfType(workflow.nodes, 'MaskedDenoise', path);
  const from = workflow.edges.find((e) => e.to.node === denoise.id && e.to.input === 'prompt')?.from.node;
  if (from === undefined) throw new Error(`${path}: ${denoise.id}.prompt is not connected`);
  return from;
}

function recordingRuntime(ctx: BenchContext, recorder: ModelCallRecorder, cacheBytes?: number): Runtime {
  return createRuntime({
    modelsDir: ctx.modelsDir,
    inputsDir: dirname(ctx.workflowPath),
    log: ctx.log,
    modelObserver: recorder,
    ...(cacheBytes === undefined ? {} : { cacheBytes }),
    ...(ctx.providers === undefined ? {} : { providers: ctx.providers }),
    ...(ctx.threads === undefined ? {} : { threads: ctx.threads }),
    ...(ctx.spin === undefined ? {} : { allowSpinning: ctx.spin }),
  });
}

interface MeasuredRun {
  wallMs: number;
  /** main-thread busy time (event-loop utilisation, active): the JavaScript the runtime adds */
  mainThreadMs: number;
  /** main-thread CPU time (Linux /proc; undefined elsewhere): the same without time spent descheduled */
  mainThreadCpuMs: number | undefined;
  /**
   * main-thread CPU (ms) between each node's start and done events, by node id (where /proc has it); only in
   * profiled runs: two settled /proc reads a node (~0.1 ms each) would sit in a timed wall
   */
  cpuByNode: Record<string, number>;
  /**
   * wall (ms) the run spent outside session.run, by node id (its start to done, less its calls' session.run),
   * plus `(between nodes)`: the run's wall outside every node (executor, events, hops to the next node)
   */
  nonModelByNode: Record<string, number>;
  /** the part of nonModelByNode inside the node's loop programs, on their thread (wall less session.run) */
  programByNode: Record<string, number>;
  /** Σ session.run as onnxruntime took it inside the run (measured in the worker) */
  sessionRunMs: number;
  sessionCalls: number;
  /** each session.run's time in call order */
  callMs: number[];
  /** CPU time of the whole process (every thread: main, model worker, onnxruntime's pools, GC, libvips) */
  processCpuMs: number;
  /** the same by group of threads (Linux), when measuredRun was told which threads existed before */
  threadCpu: ThreadGroups | undefined;
  /** CPU of the thread the loop programs ran on (the model worker's; Linux) */
  programThreadCpuMs: number;
}

type ThreadGroups = ReturnType<typeof threadCpuGroups>;

/** CPU by group of threads between two snapshots (undefined off Linux). */
function groupsBetween(
  before: ThreadCpu | undefined,
  after: ThreadCpu | undefined,
  existing: ReadonlySet<number> | undefined,
): ThreadGroups | undefined {
  return before === undefined || after === undefined || existing === undefined
    ? undefined
    : threadCpuGroups(before, after, existing);
}

/** The median of each group over the runs (null when a run has no figures). */
function medianGroups(groups: readonly (ThreadGroups | undefined)[]): ThreadGroups | null {
  if (groups.length === 0 || groups.some((g) => g === undefined)) return null;
  const all = groups as ThreadGroups[];
  const pick = (key: keyof ThreadGroups): number => round3(median(all.map((g) => g[key])));
  return {
    main: pick('main'),
    libvips: pick('libvips'),
    earlierThreads: pick('earlierThreads'),
    laterThreads: pick('laterThreads'),
  };
}

/** The main thread's CPU so far, its count brought up to date first (~0.1 ms: only outside timed windows). */
function settledMainThreadCpuMs(): number | undefined {
  settleThreadCpuClock();
  return mainThreadCpuMs();
}

/** CPU time (ms) of every thread of the process so far. */
function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** The session options of the runtime's model manager (the replay opens its sessions with the same). */
function runtimeSessionOptions(runtime: Runtime): SessionCreateOptions {
  const manager = runtime.services.tryGet(ModelManagerKey);
  if (manager === undefined) throw new Error('the runtime has no model manager');
  return manager.sessionOptions;
}

const loadAverage = (): number[] => loadavg().map((l) => Math.round(l * 100) / 100);

/** What a cold run starts without: the output cache and GenerateMask's remembered source half. */
function forgetOutputs(runtime: Runtime): void {
  runtime.cache.clear();
  forgetRememberedSourceRows();
}

/**
 * What a measured run is for: timed (nothing read inside its wall but session.run's times and the loops'
 * start and end), recorded (a copy of every call's feeds, for the replay) or profiled (untimed: the main
 * thread's CPU read, settled, at each node's start and end).
 */
type RunMode = 'timed' | 'record' | 'profile';

/**
 * One cold run: the output cache emptied and GenerateMask's remembered source half forgotten, so that every
 * run makes the same model calls as the recorded one (sessions stay open, prompt embeddings stay remembered:
 * the text encoder's 3 calls are not what a re-run saves).
 */
async function measuredRun(
  runtime: Runtime,
  recorder: ModelCallRecorder,
  document: unknown,
  mode: RunMode,
  existingThreads?: ReadonlySet<number>,
): Promise<MeasuredRun> {
  forgetOutputs(runtime);
  const profile = mode === 'profile';
  recorder.reset(mode === 'record');
  // per node: the CPU between its start and done events (nodes run one at a time)
  const cpuByNode: Record<string, number> = {};
  const nonModelByNode: Record<string, number> = {};
  let nodeStart: number | undefined;
  let nodeWallStart = 0;
  let nodeRunMsStart = 0;
  let nodeProgramMsStart = 0;
  const programByNode: Record<string, number> = {};
  let insideNodesMs = 0;
  const unsubscribe = runtime.onEvent((event) => {
    if (event.type === 'node:start') {
      if (profile) nodeStart = settledMainThreadCpuMs();
      nodeWallStart = performance.now();
      nodeRunMsStart = recorder.runMs;
      nodeProgramMsStart = recorder.programWallMs;
    } else if (event.type === 'node:done') {
      const wall = performance.now() - nodeWallStart;
      insideNodesMs += wall;
      nonModelByNode[event.nodeId] = wall - (recorder.runMs - nodeRunMsStart);
      const programMs = recorder.programWallMs - nodeProgramMsStart;
      if (programMs > 0) programByNode[event.nodeId] = programMs - (recorder.runMs - nodeRunMsStart);
      const now = profile ? settledMainThreadCpuMs() : undefined;
      if (now !== undefined && nodeStart !== undefined) cpuByNode[event.nodeId] = now - nodeStart;
    }
  });
  // the clock settled once before the timed window and once after it (a sleep of ~0.1 ms each, untimed)
  const cpuBefore = settledMainThreadCpuMs();
  const threadsBefore = existingThreads === undefined ? undefined : threadCpuTimes();
  const processBefore = processCpuMs();
  const elu = performance.eventLoopUtilization();
  const start = performance.now();
  try {
    await runTraced(runtime, document, 'measured run');
  } finally {
    unsubscribe();
  }
  const wallMs = performance.now() - start;
  nonModelByNode['(between nodes)'] = wallMs - insideNodesMs;
  settleThreadCpuClock();
  const processMs = processCpuMs() - processBefore;
  const threadsAfter = existingThreads === undefined ? undefined : threadCpuTimes();
  const mainThreadMs = performance.eventLoopUtilization(elu).active;
  const cpuAfter = mainThreadCpuMs();
  const cpuMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  recorder.recording = false;
  return {
    wallMs,
    mainThreadMs,
    mainThreadCpuMs: cpuMs,
    cpuByNode,
    nonModelByNode,
    programByNode,
    sessionRunMs: recorder.runMs,
    sessionCalls: recorder.runCount,
    callMs: recorder.callMs,
    processCpuMs: processMs,
    threadCpu: groupsBetween(threadsBefore, threadsAfter, existingThreads),
    programThreadCpuMs: recorder.programThreadCpuMs,
  };
}

/** One replay pass with the process's CPU time around it. */
async function measuredReplay(
  replayer: Awaited<ReturnType<typeof openReplay>>,
  existingThreads: ReadonlySet<number>,
): Promise<MeasuredReplay> {
  settleThreadCpuClock();
  const threadsBefore = threadCpuTimes();
  const before = processCpuMs();
  const pass = await replayer.pass();
  settleThreadCpuClock();
  const processMs = processCpuMs() - before;
  const threadCpu = groupsBetween(threadsBefore, threadCpuTimes(), existingThreads);
  return { ...pass, processCpuMs: processMs, threadCpu };
}

interface MeasuredReplay {
  ms: number;
  callMs: number[];
  processCpuMs: number;
  threadCpu: ThreadGroups | undefined;
}

/**
 * The overhead ratio: wall time of the default DiffEdit workflow (warm runtime: sessions open, output cache
 * emptied before each repetition) ÷ Σ session.run of the same calls replayed by a minimal loop. Also times a
 * re-run with only the target prompt changed against the full run.
 */
async function overhead(ctx: BenchContext, model: string, size: number): Promise<BenchOutcome> {
  const workflow = await loadDocument(ctx);
  const document = sizedWorkflow(workflow, ctx.workflowPath, model, size);
  const target = targetNode(workflow, ctx.workflowPath);
  // the workflow and the replay alternate; wall times here move by ±15 % with the machine's load and single
  // pairs by ±20 %, so the medians need many pairs (each repetition is ~3.5 s on the bench UNet: run, replay,
  // target re-run); with 15, the paired median of one commit moved between 0.99 and 1.07 from bench to bench
  // (docs/performance.md); 31 about halve that median's variance, and give it a 97 % interval, x(10)..x(22)
  const repetitions = ctx.quick ? 5 : 31;
  const loadBefore = loadAverage();
  // threads alive before the runtime starts: V8's platform threads (optimising compiler, GC helpers), libuv's pool
  const existingThreads = new Set(threadCpuTimes()?.keys() ?? []);
  const recorder = new ModelCallRecorder();
  const runtime = recordingRuntime(ctx, recorder);
  try {
    // warm: the sessions open and the JIT done with the hot loops (the first runs after start-up still
    // spend main-thread CPU compiling and re-optimising them; measured here: +50–100 ms at 512² on the toy)
    ctx.log(`  ${WARM_UP_RUNS} warm-up runs (${model}, ${size}²: open the sessions, warm the JIT)`);
    // cold like the measured runs (a warm-up that hits the output cache runs nothing)
    for (let i = 0; i < WARM_UP_RUNS; i++) {
      forgetOutputs(runtime);
      await runTraced(runtime, document, 'warm-up run');
    }
    // one recorded run, then workflow runs and replays of its calls alternate (the machine's load drifts)
    await measuredRun(runtime, recorder, document, 'record');
    const calls = recorder.calls;
    // the main thread's CPU node by node, from runs of their own (the timed runs read none of it, and the
    // recorded run's feed copies would count as the runtime's)
    const profiled: MeasuredRun[] = [];
    for (let i = 0; i < PROFILED_RUNS; i++)
      profiled.push(await measuredRun(runtime, recorder, document, 'profile'));
    ctx.log(`  ${repetitions} × (workflow run, minimal replay of its ${calls.length} session calls)`);
    const sessionOptions = runtimeSessionOptions(runtime);
    const replayer = await openReplay(calls, sessionOptions);
    const runs: MeasuredRun[] = [];
    const replays: MeasuredReplay[] = [];
    // re-runs with only the target prompt changed (each prompt new) on the cache the run before left
    const reruns: number[] = [];
    const rerunSessionMs: number[] = [];
    const rerunCalls: number[] = [];
    const invert = nodeOfType(workflow.nodes, 'DDIMInvert', ctx.workflowPath).id;
    try {
      // run, replay, re-run in turn: the machine's speed drifts by 20 % within a bench, and each of the
      // ratios must compare figures taken under the same drift (a re-run phase after all the runs did not)
      for (let i = 0; i < repetitions; i++) {
        runs.push(await measuredRun(runtime, recorder, document, 'timed', existingThreads));
        replays.push(await measuredReplay(replayer, existingThreads));
        const changed = applyOverrides(document, [
          { nodeId: target, param: 'text', value: `a yellow pear ${i}` },
        ]);
        recorder.reset(false);
        const start = performance.now();
        const trace = await runTraced(runtime, changed, 'target re-run');
        reruns.push(performance.now() - start);
        rerunSessionMs.push(recorder.runMs);
        rerunCalls.push(recorder.runCount);
        if (trace.ran.includes(invert)) throw new Error('DDIMInvert re-ran after a target-prompt change');
      }
    } finally {
      await replayer.close();
    }
    const replay = replays.map((r) => r.ms);
    const wall = median(runs.map((r) => r.wallMs));
    const floor = median(replay);
    // each run against the replay right after it (the load drifts less within a pair than across the bench)
    const pairRatios = runs.map((r, i) => r.wallMs / replay[i]);
    const paired = summarize(pairRatios);
    const cpuRun = median(runs.map((r) => r.processCpuMs));
    const cpuReplay = median(replays.map((r) => r.processCpuMs));
    const checks: BenchCheck[] = [
      {
        name: 'every repetition made the same session calls',
        ok: calls.length > 0 && runs.every((r) => r.sessionCalls === calls.length),
        detail: `session calls per run: ${runs.map((r) => r.sessionCalls).join(', ')}`,
      },
    ];
    return {
      params: {
        model,
        image: `${size}×${size}`,
        workflow: ctx.workflowPath,
        cache: 'emptied; sessions warm',
        intraOpThreads: ctx.threads ?? defaultIntraOpThreads(),
        spinning: ctx.spin ?? false,
        sessionOptions,
      },
      samples: runs.map((r) => r.wallMs),
      details: {
        overheadRatio: round3(wall / floor),
        wallMedianMs: round3(wall),
        replaySessionRunMedianMs: round3(floor),
        // the spread, and estimators less moved by the load than the ratio of medians
        wallMs: summarize(runs.map((r) => r.wallMs)),
        replaySessionRunMs: summarize(replay),
        // the repetitions in the order they ran (run i, replay i, re-run i), for other pairings and pooling
        series: {
          runWallMs: runs.map((r) => round3(r.wallMs)),
          replaySessionRunMs: replay.map(round3),
          rerunWallMs: reruns.map(round3),
        },
        overheadRatioPaired: {
          median: round3(paired.median),
          min: round3(paired.min),
          max: round3(paired.max),
          // where the median of such pairs lies, with the bench's own spread (distribution-free)
          interval95: medianInterval(pairRatios),
          // each pair's ratio in order, so that several benches' pairs can be pooled
          pairs: pairRatios.map(round3),
        },
        // the runtime's own time a run, in ms: each run's wall less the replay right after it (median)
        overheadMsPaired: round3(median(runs.map((r, i) => r.wallMs - replay[i]))),
        overheadRatioOfMinima: round3(Math.min(...runs.map((r) => r.wallMs)) / Math.min(...replay)),
        // CPU time of the whole process (all threads) per run ÷ per replay pass: the work the runtime adds,
        // hardly moved by other processes taking the cores (onnxruntime's threads do not spin by default)
        processCpuMedianMs: { run: round3(cpuRun), replay: round3(cpuReplay) },
        overheadRatioCpu: round3(cpuRun / cpuReplay),
        // the same by thread group (Linux): main; libvips (sharp); earlierThreads, started before the
        // runtime (V8's platform threads: optimising compiler, GC helpers); laterThreads (the model worker
        // and onnxruntime's pools; in the replay, its own worker and pools)
        threadCpuMedianMs: {
          run: medianGroups(runs.map((r) => r.threadCpu)),
          replay: medianGroups(replays.map((r) => r.threadCpu)),
        },
        // Σ session.run by kind of call, inside the run (model worker) against the replay (its own worker)
        sessionRunByCallShape: runs.every((r) => r.callMs.length === calls.length)
          ? sessionRunByCallShape(
              calls,
              runs.map((r) => r.callMs),
              replays.map((r) => r.callMs),
            )
          : null,
        inRunSessionRunMedianMs: round3(median(runs.map((r) => r.sessionRunMs))),
        // the same wall against onnxruntime's own time inside the run (measured where it ran: the worker)
        overheadRatioInRun: round3(wall / median(runs.map((r) => r.sessionRunMs))),
        mainThreadBusyMedianMs: round3(median(runs.map((r) => r.mainThreadMs))),
        mainThreadCpuMs: runs.map((r) =>
          r.mainThreadCpuMs === undefined ? null : round3(r.mainThreadCpuMs),
        ),
        // the profiled runs' medians (the timed runs do not read /proc around each node)
        mainThreadCpuByNodeMs: medianByNode(profiled.map((r) => r.cpuByNode)),
        mainThreadCpuMedianMs: runs.every((r) => r.mainThreadCpuMs !== undefined)
          ? round3(median(runs.map((r) => r.mainThreadCpuMs!)))
          : null,
        nonModelMedianMs: round3(median(runs.map((r) => r.wallMs - r.sessionRunMs))),
        // where that wall goes: each node's wall outside session.run, and the wall between nodes
        nonModelByNodeMedianMs: medianByNode(runs.map((r) => r.nonModelByNode)),
        programOutsideRunByNodeMedianMs: medianByNode(runs.map((r) => r.programByNode)),
        // the sampling loops run in the model worker: their JavaScript costs that thread, not the main one
        // (outside session.run that thread hardly ever sleeps, 0–1 voluntary switches a loop: its wall there,
        // above, is its CPU)
        loopThreadCpuMedianMs: round3(median(runs.map((r) => r.programThreadCpuMs))),
        sessionCalls: callsByComponent(calls),
        rerunTargetPromptMedianMs: round3(median(reruns)),
        rerunTargetPromptRatio: round3(median(reruns) / wall),
        // each re-run against the full run of its repetition
        rerunTargetPromptRatioPaired: round3(median(reruns.map((ms, i) => ms / runs[i].wallMs))),
        // the re-runs' own model time and calls (GenerateMask computes only the target's own 10 of its 40 rows)
        rerunTargetPromptSessionRunMedianMs: round3(median(rerunSessionMs)),
        rerunTargetPromptSessionCalls: median(rerunCalls),
        loadAverage: { before: loadBefore, after: loadAverage() },
      },
      checks,
    };
  } finally {
    await runtime.close();
  }
}

/** On the bench UNet (a real UNet's shape and cost, fixed random weights) at 256². */
export function overheadBenchModel(ctx: BenchContext): Promise<BenchOutcome> {
  return overhead(ctx, BENCH_MODEL, 256);
}

/** On the toy models at 512² (the toy UNet costs ~0.4 ms: this ratio measures the JavaScript). */
export function overheadToy(ctx: BenchContext): Promise<BenchOutcome> {
  return overhead(ctx, 'toy-sd', 512);
}

/**
 * The memory bench's method (docs/performance.md, Memory): RSS is sampled after every run, as soon as its result
 * is back; "RSS at run N" is the median of the samples of runs N − w … N + w (w = MEMORY_WINDOW_HALF_WIDTH), so
 * one sample that lands on a peak of garbage not yet collected does not decide the figure.
 */
export const MEMORY_WINDOW_HALF_WIDTH = { full: 2, quick: 1 } as const;

/**
 * Memory over many runs: the default workflow (toy, 512²) with a new target prompt each run and a 256 MiB
 * output cache; RSS after every run. Checks the cache stays within its budget.
 */
export async function memoryTargetPromptRuns(ctx: BenchContext): Promise<BenchOutcome> {
  const workflow = await loadDocument(ctx);
  const document = sizedWorkflow(workflow, ctx.workflowPath, 'toy-sd', 512);
  const target = targetNode(workflow, ctx.workflowPath);
  const lateRun = ctx.quick ? 20 : 50;
  const earlyRun = Math.round(lateRun / 5);
  const halfWidth = ctx.quick ? MEMORY_WINDOW_HALF_WIDTH.quick : MEMORY_WINDOW_HALF_WIDTH.full;
  const runs = lateRun + halfWidth;
  const budget = 256 * 1024 * 1024;
  const recorder = new ModelCallRecorder();
  const runtime = recordingRuntime(ctx, recorder, budget);
  const breakdowns: MemoryBreakdown[] = [];
  // the budget check in bytes (the breakdown's MiB are rounded)
  let largestCacheBytes = 0;
  const samples: number[] = [];
  const loads: number[][] = [];
  const majorGcs = new MajorGcCounter();
  const majorGcsAfterRun: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const changed = applyOverrides(document, [
        { nodeId: target, param: 'text', value: `a green pear ${i}` },
      ]);
      const start = performance.now();
      await runTraced(runtime, changed, `run ${i + 1}`);
      samples.push(performance.now() - start);
      const cacheBytes = runtime.cache.stats().bytes;
      largestCacheBytes = Math.max(largestCacheBytes, cacheBytes);
      breakdowns.push(memoryBreakdown(cacheBytes));
      majorGcsAfterRun.push(majorGcs.count());
      if ((i + 1) % 10 === 0) {
        loads.push(loadavg().map(round3));
        ctx.log(`  run ${i + 1}/${runs}: RSS ${breakdowns[i].rss.toFixed(0)} MiB`);
      }
    }
    const rss = breakdowns.map((b) => b.rss);
    const cache = breakdowns.map((b) => b.outputCache);
    const growth = windowGrowth(rss, earlyRun, lateRun, halfWidth);
    // what the cache does not explain: RSS less the cache's exact bytes (the buffers it holds)
    const outside = windowGrowth(
      rss.map((r, i) => r - cache[i]),
      earlyRun,
      lateRun,
      halfWidth,
    );
    const cacheGrowth = windowGrowth(cache, earlyRun, lateRun, halfWidth);
    const within = largestCacheBytes <= budget;
    const early = `run${earlyRun}`;
    const late = `run${lateRun}`;
    return {
      params: {
        model: 'toy-sd',
        image: '512×512',
        runs,
        cacheBudgetMiB: 256,
        changed: 'target prompt',
        // glibc's allocator settings change this figure (docs/performance.md, Memory): say which were in force
        glibcTunables: process.env.GLIBC_TUNABLES ?? null,
        measured: `median RSS of runs ${windowRuns(earlyRun, halfWidth).join(',')} vs of runs ${windowRuns(lateRun, halfWidth).join(',')}, each sampled as its result came back`,
      },
      samples,
      details: {
        rssGrowthPct: growth.pct,
        rssMiB: { [early]: growth.early, [late]: growth.late },
        // the single samples of the two runs, as this figure was taken before the windows (for comparison)
        rssGrowthPctSingleSamples: round3(((rss[lateRun - 1] - rss[earlyRun - 1]) / rss[earlyRun - 1]) * 100),
        cacheMiB: { [early]: cacheGrowth.early, [late]: cacheGrowth.late },
        rssOutsideCacheGrowthPct: outside.pct,
        // which part moved: MiB between the two windows' medians, per part of the breakdown
        growthByPartMiB: breakdownGrowthMiB(breakdowns, earlyRun, lateRun, halfWidth),
        // every run's breakdown (MiB), one array per part; memory-breakdown.ts says what each part is
        perRun: breakdownSeries(breakdowns),
        // the main isolate's mark-compacts: the runs that saw one (the model worker's are not counted)
        mainMarkCompactRuns: runsWithMajorGc(majorGcsAfterRun),
        loadAverageEvery10Runs: loads,
        cacheWithinBudget: within,
        cacheMiBAfterLastRun: cache[runs - 1],
        cacheEntries: runtime.cache.stats().entries,
      },
      checks: [
        {
          name: 'the output cache stays within its budget',
          ok: within,
          detail: `largest cache size ${bytesToMiB(largestCacheBytes)} MiB of 256`,
        },
      ],
    };
  } finally {
    majorGcs.stop();
    await runtime.close();
  }
}

export const SCALING_SIZES = [256, 512, 768, 1024] as const;

/** The default workflow (toy) at growing image sizes: run time, Σ session.run and peak RSS per size. */
export async function scaling(ctx: BenchContext): Promise<BenchOutcome> {
  const workflow = await loadDocument(ctx);
  const recorder = new ModelCallRecorder();
  const runtime = recordingRuntime(ctx, recorder);
  const rows: {
    size: string;
    megapixels: number;
    runMs: number;
    sessionRunMs: number;
    peakRssMiB: number;
    /** RSS just before the measured run: the peak's slope also depends on what the process held before */
    rssBeforeMiB: number;
  }[] = [];
  try {
    for (const size of SCALING_SIZES) {
      const document = sizedWorkflow(workflow, ctx.workflowPath, 'toy-sd', size);
      ctx.log(`  ${size}²: warm-up run, then the measured one`);
      await runTraced(runtime, document, `warm-up ${size}²`);
      const rssBefore = bytesToMiB(process.memoryUsage().rss);
      const sampler = new MemorySampler();
      const run = await measuredRun(runtime, recorder, document, 'timed');
      const memory = sampler.stop();
      rows.push({
        size: `${size}×${size}`,
        megapixels: round3((size * size) / 1e6),
        runMs: round3(run.wallMs),
        sessionRunMs: round3(run.sessionRunMs),
        peakRssMiB: memory.peakRssMiB,
        rssBeforeMiB: rssBefore,
      });
    }
    const first = rows[0];
    const last = rows.at(-1)!;
    const perMegapixel = (last.peakRssMiB - first.peakRssMiB) / (last.megapixels - first.megapixels);
    return {
      params: { model: 'toy-sd', sizes: SCALING_SIZES.map((s) => `${s}²`), cache: 'emptied; sessions warm' },
      samples: rows.map((r) => r.runMs),
      details: { table: rows, peakRssMiBPerMegapixel: round3(perMegapixel) },
    };
  } finally {
    const manager = runtime.services.tryGet(ModelManagerKey);
    if (manager !== undefined) await ctx.resources.noteProviders(manager);
    await runtime.close();
  }
}
