import { ServiceRegistry } from '@diffedit/core';
import type { NodeContext, NodeDefinition, ParamValue, ProgressPreview } from '@diffedit/core';

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
  warnings: string[];
} {
  const progress: RecordedProgress[] = [];
  const warnings: string[] = [];
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
  };
  return { ctx, progress, warnings };
}

/** Every param of `def` at its default, with `changes` applied: what the executor would pass to run(). */
export function paramsOf(
  def: NodeDefinition,
  changes: Record<string, ParamValue> = {},
): Record<string, ParamValue> {
  const defaults = Object.entries(def.params).map(([name, spec]) => [name, spec.default] as const);
  return { ...Object.fromEntries(defaults), ...changes };
}
