import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { Tensor } from '@diffedit/core';
import type { RunEvent, RunResult } from '@diffedit/core';
import { ModelManagerKey } from '@diffedit/nodes';
import type { ModelCallCounts } from '@diffedit/nodes';

import { applyOverrides } from '../overrides.js';
import { createRuntime } from '../runtime.js';
import type { Runtime } from '../runtime.js';
import type { BenchContext } from './resources.js';
import type { BenchCheck } from './bench-report.js';
import { timeRepetitions } from './measure.js';
import type { BenchOutcome } from './suite.js';
import { summarize } from './stats.js';

/** The session calls the workflow's diffusion model has made so far in this runtime. */
async function diffusionCalls(runtime: Runtime, nodes: readonly WorkflowNode[]): Promise<ModelCallCounts> {
  const manager = runtime.services.tryGet(ModelManagerKey);
  const name = nodes.find((n) => n.type === 'LoadDiffusionModel')?.params?.model;
  if (manager === undefined || typeof name !== 'string')
    throw new Error('no diffusion model in the workflow');
  return { ...(await manager.loadDiffusion(name)).calls };
}

/** Which nodes ran and which came from the cache in one run, from the executor's events. */
export interface RunTrace {
  ran: string[];
  cached: string[];
  /** node id → milliseconds (node:done events). */
  nodeMs: Record<string, number>;
}

/** Collects a RunTrace from a run's events. */
export function traceRun(): { onEvent: (event: RunEvent) => void; trace: RunTrace } {
  const trace: RunTrace = { ran: [], cached: [], nodeMs: {} };
  const onEvent = (event: RunEvent): void => {
    if (event.type === 'node:start') trace.ran.push(event.nodeId);
    else if (event.type === 'node:cached') trace.cached.push(event.nodeId);
    else if (event.type === 'node:done') trace.nodeMs[event.nodeId] = event.ms;
  };
  return { onEvent, trace };
}

export interface WorkflowNode {
  id: string;
  type: string;
  params?: Record<string, unknown>;
}

export interface WorkflowEdge {
  from: { node: string; output: string };
  to: { node: string; input: string };
}

export interface WorkflowDocument {
  document: unknown;
  nodes: WorkflowNode[];
  edges: WorkflowEdge[];
}

export async function loadDocument(ctx: BenchContext): Promise<WorkflowDocument> {
  const document = JSON.parse(await readFile(ctx.workflowPath, 'utf8')) as {
    nodes?: unknown;
    edges?: unknown;
  };
  if (!Array.isArray(document.nodes) || !Array.isArray(document.edges))
    throw new Error(`${ctx.workflowPath}: the workflow has no "nodes" and "edges" arrays`);
  return { document, nodes: document.nodes as WorkflowNode[], edges: document.edges as WorkflowEdge[] };
}

export function nodeOfType(nodes: readonly WorkflowNode[], type: string, path: string): WorkflowNode {
  const node = nodes.find((n) => n.type === type);
  if (node === undefined) throw new Error(`${path}: the benchmark workflow has no ${type} node`);
  return node;
}

function newRuntime(ctx: BenchContext): Runtime {
  return createRuntime({
    modelsDir: ctx.modelsDir,
    inputsDir: dirname(ctx.workflowPath),
    log: ctx.log,
    ...(ctx.providers === undefined ? {} : { providers: ctx.providers }),
    ...(ctx.threads === undefined ? {} : { threads: ctx.threads }),
    ...(ctx.spin === undefined ? {} : { allowSpinning: ctx.spin }),
  });
}

export async function runTraced(
  runtime: Runtime,
  document: unknown,
  what: string,
  onResult?: (result: RunResult) => void,
): Promise<RunTrace> {
  const { onEvent, trace } = traceRun();
  const result: RunResult = await runtime.run(document, { onEvent });
  if (result.status !== 'done') {
    const why = result.error?.message ?? result.issues?.map((i) => i.message).join('; ') ?? result.status;
    throw new Error(`${what}: the workflow run ended '${result.status}': ${why}`);
  }
  onResult?.(result);
  return trace;
}

/** The size of the image a LoadImage node produced ([1,3,H,W] → "W×H"), read from the run's outputs. */
function loadedImageSize(result: RunResult, nodeId: string): string | undefined {
  const image = result.outputs[nodeId]?.image;
  return image instanceof Tensor && image.rank === 4 ? `${image.dims[3]}×${image.dims[2]}` : undefined;
}

async function closeRuntime(ctx: BenchContext, runtime: Runtime): Promise<void> {
  const manager = runtime.services.tryGet(ModelManagerKey);
  if (manager !== undefined) await ctx.resources.noteProviders(manager);
  await runtime.close();
}

/** Per-node medians over the repetitions (nodes that ran at least once). */
function nodeMedians(traces: readonly RunTrace[]): Record<string, number> {
  const ids = [...new Set(traces.flatMap((t) => Object.keys(t.nodeMs)))];
  return Object.fromEntries(
    ids.map((id) => [id, summarize(traces.flatMap((t) => (id in t.nodeMs ? [t.nodeMs[id]] : []))).median]),
  );
}

/** The distinct "ran" lists across repetitions (one entry when every repetition ran the same nodes). */
function distinctRan(traces: readonly RunTrace[]): string[][] {
  const seen = new Map<string, string[]>();
  for (const t of traces) seen.set(t.ran.join(','), t.ran);
  return [...seen.values()];
}

/** Benchmark 1: the whole workflow on a fresh runtime each time (empty cache, sessions opened in the run). */
export async function workflowCold(ctx: BenchContext): Promise<BenchOutcome> {
  const { document, nodes } = await loadDocument(ctx);
  const repetitions = ctx.quick ? 1 : 5;
  const imageNode = nodeOfType(nodes, 'LoadImage', ctx.workflowPath).id;
  let imageSize: string | undefined;
  const traces: RunTrace[] = [];
  const modelCalls: ModelCallCounts[] = [];
  const samples = await timeRepetitions(repetitions, async (i) => {
    const runtime = newRuntime(ctx);
    try {
      ctx.log(`  cold run ${i + 1}/${repetitions}`);
      traces.push(
        await runTraced(runtime, document, 'cold run', (result) => {
          imageSize = loadedImageSize(result, imageNode);
        }),
      );
      modelCalls.push(await diffusionCalls(runtime, nodes));
    } finally {
      await closeRuntime(ctx, runtime);
    }
  });
  const ranAll = traces.every((t) => t.ran.length === nodes.length);
  return {
    params: {
      workflow: ctx.workflowPath,
      image: imageSize ?? 'unknown',
      defaults: true,
      cache: 'empty, new runtime per run',
    },
    samples,
    details: {
      nodes: nodes.length,
      ran: distinctRan(traces),
      nodeMedianMs: nodeMedians(traces),
      // session calls of one cold run (the same in each: checked below)
      modelCalls: modelCalls[0],
    },
    checks: [
      {
        name: 'every cold run made the same model calls',
        ok: modelCalls.every((c) => JSON.stringify(c) === JSON.stringify(modelCalls[0])),
        detail: modelCalls.map((c) => JSON.stringify(c)).join(' | '),
      },
      {
        name: 'every node ran',
        ok: ranAll,
        detail: `${traces.map((t) => t.ran.length).join(', ')} of ${nodes.length} nodes ran`,
      },
    ],
  };
}

/**
 * Re-runs after changing one param on a warm runtime (the first, untimed run fills the cache); each repetition
 * uses a value not seen before so it cannot come from the cache.
 */
async function incremental(
  ctx: BenchContext,
  change: (workflow: WorkflowDocument) => { nodeId: string; param: string; values: (i: number) => unknown },
  expectSkipped: string,
): Promise<BenchOutcome> {
  const workflow = await loadDocument(ctx);
  const { document, nodes } = workflow;
  const { nodeId, param, values } = change(workflow);
  const skippedNode = nodeOfType(nodes, expectSkipped, ctx.workflowPath).id;
  const repetitions = ctx.quick ? 2 : 5;
  const runtime = newRuntime(ctx);
  const traces: RunTrace[] = [];
  const used: unknown[] = [];
  try {
    ctx.log('  warm-up run (fills the cache)');
    await runTraced(runtime, document, 'warm-up run');
    const samples = await timeRepetitions(repetitions, async (i) => {
      const value = values(i);
      used.push(value);
      const changed = applyOverrides(document, [{ nodeId, param, value }]);
      traces.push(
        await runTraced(runtime, changed, `re-run with ${nodeId}.${param}=${JSON.stringify(value)}`),
      );
    });
    const skipped = traces.every((t) => !t.ran.includes(skippedNode));
    // the change must reach the edit: a stale cache hit would make the re-run look fast and wrong
    const editNode = nodeOfType(nodes, 'MaskedDenoise', ctx.workflowPath).id;
    const edited = traces.every((t) => t.ran.includes(editNode));
    const checks: BenchCheck[] = [
      {
        name: 'MaskedDenoise re-ran',
        ok: edited,
        detail: edited
          ? `${editNode} ran in every re-run`
          : `${editNode} came from the cache after the change`,
      },
      {
        name: `${expectSkipped} did not re-run`,
        ok: skipped,
        detail: skipped
          ? `${skippedNode} came from the cache in every re-run`
          : `${skippedNode} ran again: ${distinctRan(traces)
              .map((r) => r.join(','))
              .join(' | ')}`,
      },
    ];
    return {
      params: { workflow: ctx.workflowPath, changed: `${nodeId}.${param}`, values: used },
      samples,
      details: {
        ran: distinctRan(traces),
        cached: traces[0]?.cached ?? [],
        nodeMedianMs: nodeMedians(traces),
      },
      checks,
    };
  } finally {
    await closeRuntime(ctx, runtime);
  }
}

const TARGET_PROMPTS = ['a yellow pear', 'a green apple', 'a blue pear', 'a yellow apple', 'a white pear'];

/** Benchmark 2a: only the target prompt changes: mask and denoise re-run, DDIMInvert (source prompt) must not. */
export function workflowIncrementalTargetPrompt(ctx: BenchContext): Promise<BenchOutcome> {
  return incremental(
    ctx,
    ({ nodes, edges }) => {
      // the target prompt is the Text node feeding MaskedDenoise's prompt
      const denoise = nodeOfType(nodes, 'MaskedDenoise', ctx.workflowPath);
      const from = edges.find((e) => e.to.node === denoise.id && e.to.input === 'prompt')?.from.node;
      const target = nodes.find((n) => n.id === from && n.type === 'Text');
      if (target === undefined) {
        throw new Error(
          `${ctx.workflowPath}: ${denoise.id}.prompt is not fed by a Text node (the target prompt)`,
        );
      }
      const original = String(target.params?.text ?? '');
      const prompts = TARGET_PROMPTS.filter((p) => p !== original);
      return {
        nodeId: target.id,
        param: 'text',
        values: (i) => `${prompts[i % prompts.length]}${i >= prompts.length ? ` ${i}` : ''}`,
      };
    },
    'DDIMInvert',
  );
}

/** Benchmark 2b: only mask_thresholding_ratio changes: the mask is re-thresholded, DDIMInvert must not re-run. */
export function workflowIncrementalMaskThreshold(ctx: BenchContext): Promise<BenchOutcome> {
  return incremental(
    ctx,
    ({ nodes }) => {
      const mask = nodeOfType(nodes, 'GenerateMask', ctx.workflowPath);
      const original = Number(mask.params?.mask_thresholding_ratio ?? 3);
      // distinct values that stay in the param's range, none equal to the original
      return {
        nodeId: mask.id,
        param: 'mask_thresholding_ratio',
        values: (i) => Math.round((original + 0.25 * (i + 1) * (i % 2 === 0 ? 1 : -1)) * 100) / 100,
      };
    },
    'DDIMInvert',
  );
}

/** Benchmark 3: the same workflow again with nothing changed: everything should come from the cache. */
export async function workflowCached(ctx: BenchContext): Promise<BenchOutcome> {
  const { document, nodes } = await loadDocument(ctx);
  const repetitions = ctx.quick ? 3 : 10;
  const runtime = newRuntime(ctx);
  const traces: RunTrace[] = [];
  try {
    ctx.log('  warm-up run (fills the cache)');
    await runTraced(runtime, document, 'warm-up run');
    const before = await diffusionCalls(runtime, nodes);
    const samples = await timeRepetitions(repetitions, async () => {
      traces.push(await runTraced(runtime, document, 'cached re-run'));
    });
    const after = await diffusionCalls(runtime, nodes);
    const modelCalls =
      Object.values(after).reduce((a, b) => a + b, 0) - Object.values(before).reduce((a, b) => a + b, 0);
    const ranCounts = traces.map((t) => t.ran.length);
    return {
      params: { workflow: ctx.workflowPath, changed: 'nothing' },
      samples,
      details: { nodes: nodes.length, nodesRan: ranCounts, ran: distinctRan(traces) },
      checks: [
        {
          name: 'no model call',
          ok: modelCalls === 0,
          detail: `${modelCalls} session calls in ${repetitions} cached re-runs`,
        },
        {
          name: 'no node re-ran',
          ok: ranCounts.every((n) => n === 0),
          detail: `nodes that ran per re-run: ${ranCounts.join(', ')}`,
        },
      ],
    };
  } finally {
    await closeRuntime(ctx, runtime);
  }
}
