import { ServiceRegistry } from '@diffedit/core';
import type {
  NodeContext,
  NodeDefinition,
  NodeWarningInit,
  ParamValue,
  ProgressPreview,
} from '@diffedit/core';

export interface RecordedProgress {
  step: number;
  total: number;
  preview?: ProgressPreview;
}

/**
 * A NodeContext for calling a node's run() directly. Unlike the executor's, its progress() never throws on
 * abort, so a test sees whether the node itself honours the signal.
 */
export function recordingContext(signal = new AbortController().signal): {
  ctx: NodeContext;
  progress: RecordedProgress[];
  /** What the node logged at level warn. */
  warnings: string[];
  /** What the node raised with ctx.warn (user-facing warnings). */
  userWarnings: NodeWarningInit[];
} {
  const progress: RecordedProgress[] = [];
  const warnings: string[] = [];
  const userWarnings: NodeWarningInit[] = [];
  const ctx: NodeContext = {
    nodeId: 'node',
    nodeType: 'Test',
    runId: 'run',
    signal,
    progress: (step, total, preview) => void progress.push({ step, total, preview }),
    throwIfAborted: () => signal.throwIfAborted(),
    log: { debug: () => {}, info: () => {}, warn: (m) => void warnings.push(m), error: () => {} },
    services: new ServiceRegistry(),
    emitFile: () => {},
    warn: (warning) => void userWarnings.push(warning),
  };
  return { ctx, progress, warnings, userWarnings };
}

/**
 * recordingContext whose signal aborts once the node has reported `abortAfter` steps (never without it):
 * cancels a long node at a known point of its loop.
 */
export function abortingContext(abortAfter?: number): ReturnType<typeof recordingContext> & {
  controller: AbortController;
} {
  const controller = new AbortController();
  const recording = recordingContext(controller.signal);
  const ctx: NodeContext = {
    ...recording.ctx,
    progress: (step, total, preview) => {
      recording.ctx.progress(step, total, preview);
      if (recording.progress.length === abortAfter) controller.abort();
    },
  };
  return { ...recording, ctx, controller };
}

/** Every param of `def` at its default, with `changes` applied: what the executor would pass to run(). */
export function paramsOf(
  def: NodeDefinition,
  changes: Record<string, ParamValue> = {},
): Record<string, ParamValue> {
  const defaults = Object.entries(def.params).map(([name, spec]) => [name, spec.default] as const);
  return { ...Object.fromEntries(defaults), ...changes };
}
