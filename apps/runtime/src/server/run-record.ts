import type { NodePreviewEvent, RunDetail, RunStreamEvent, RunWarning } from '@diffedit/core';

import type { WorkerRunResult } from './run-worker-protocol.js';

/** A new run's record, as stored when it is accepted. */
export function newRun(fields: {
  runId: string;
  name: string;
  workflow: unknown;
  clientId?: string;
  targets?: string[];
}): RunDetail {
  return {
    runId: fields.runId,
    status: 'queued',
    name: fields.name,
    ...(fields.clientId !== undefined ? { clientId: fields.clientId } : {}),
    ...(fields.targets !== undefined ? { targets: fields.targets } : {}),
    createdAt: Date.now(),
    files: [],
    nodes: [],
    cached: [],
    warnings: [],
    workflow: fields.workflow,
  };
}

/** A `node:warning` event (issue 9's executor emits them; older executors never do). */
interface WarningEvent extends RunWarning {
  type: 'node:warning';
}

function isWarning(event: { type: string }): event is WarningEvent {
  return event.type === 'node:warning';
}

/**
 * Folds one wire event into the run's record. Returns whether the record changed in a way worth saving
 * (everything but progress, which is only kept in memory).
 */
export function applyEvent(
  run: RunDetail,
  event: RunStreamEvent | NodePreviewEvent | WarningEvent,
  typeOf: (nodeId: string) => string,
): boolean {
  if (isWarning(event)) {
    const {
      type: _type,
      runId: _runId,
      time: _time,
      ...warning
    } = event as WarningEvent & { runId?: string; time?: number };
    run.warnings.push(warning);
    return true;
  }
  const node =
    'nodeId' in event && event.nodeId !== null ? run.nodes.find((n) => n.nodeId === event.nodeId) : undefined;
  switch (event.type) {
    case 'run:start': {
      const keys = event.keys;
      const cached = new Set(event.cached);
      run.cached = [...event.cached];
      run.nodes = event.planned.map((nodeId) => ({
        nodeId,
        nodeType: typeOf(nodeId),
        state: cached.has(nodeId) ? 'cached' : 'pending',
        ms: 0,
        ...(keys[nodeId] !== undefined ? { cacheKey: keys[nodeId] } : {}),
        files: [],
      }));
      return true;
    }
    case 'node:cached':
    case 'node:done':
      if (node) {
        node.state = event.type === 'node:done' ? 'ran' : 'cached';
        if (event.type === 'node:done') {
          node.ms = event.ms;
          node.outputs = event.outputs;
          delete node.progress;
        }
        node.cacheKey = event.cacheKey;
        node.files = event.artifacts;
      }
      run.files.push(...event.artifacts.map((file) => ({ ...file, nodeId: event.nodeId })));
      return true;
    case 'node:start':
      if (node) node.state = 'running';
      return true;
    case 'node:preview':
      if (node)
        node.previews = [
          ...(node.previews ?? []).filter((p) => p.output !== event.preview.output),
          event.preview,
        ];
      return node !== undefined;
    case 'node:progress':
      if (node) node.progress = { step: event.step, total: event.total };
      return false;
    case 'node:error':
      if (node) {
        node.state = 'failed';
        node.ms = event.ms;
        node.error = event.error;
      }
      return true;
    case 'node:log':
      return false;
    case 'run:done':
      run.status = 'succeeded';
      run.ms = event.ms;
      return true;
    case 'run:failed':
      run.status = 'failed';
      run.ms = event.ms;
      run.error = event.error;
      if (event.issues) run.issues = event.issues;
      return true;
    case 'run:cancelled':
      run.status = 'cancelled';
      run.ms = event.ms;
      for (const n of run.nodes) if (n.state === 'running') n.state = 'cancelled';
      return true;
  }
}

/** Completes the record from the executor's result (cache keys, timings, warnings) once the run returns. */
export function applyResult(run: RunDetail, result: WorkerRunResult): void {
  for (const record of result.nodes) {
    const node = run.nodes.find((n) => n.nodeId === record.nodeId);
    if (!node) continue;
    node.cacheKey = record.cacheKey;
    if (record.status === 'ran' || record.status === 'failed') node.ms = record.ms;
  }
  const { warnings } = result;
  if (warnings.length >= run.warnings.length) run.warnings = warnings.map((w) => ({ ...w }));
  run.fingerprints = Object.fromEntries(
    Object.entries(result.fingerprints).map(([nodeId, params]) => [nodeId, { ...params }]),
  );
  run.ms = result.ms;
  run.status =
    result.status === 'done' ? 'succeeded' : result.status === 'invalid' ? 'failed' : result.status;
  if (result.error) run.error = result.error;
  if (result.issues) run.issues = result.issues;
  for (const n of run.nodes)
    if (n.state === 'running') n.state = result.status === 'cancelled' ? 'cancelled' : 'failed';
}
