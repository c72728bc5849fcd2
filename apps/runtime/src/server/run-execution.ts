import { encodeOutputPreview, isPreviewSocketType } from '@diffedit/nodes';
import type { NodeOutputs } from '@diffedit/core';

import type { Runtime } from '../runtime.js';
import type { FromWorker, WorkerOutputPreview } from './run-worker-protocol.js';

/** What a run needs besides the runtime: the request, a cancel signal, and where its messages go. */
export interface RunExecutionRequest {
  runId: string;
  workflow: unknown;
  targets?: string[];
  signal: AbortSignal;
  /** Receives the run's messages in order (events, artifacts, previews), then one result or crashed. */
  post(message: FromWorker): void;
}

/**
 * Executes one run and reports it as run-worker protocol messages. The server's run worker thread calls it, and
 * so can any other executor of runs (a remote queue worker): everything the queue learns about a run — events,
 * files, output previews, the result — comes from here.
 */
export async function executeRun(runtime: Runtime, request: RunExecutionRequest): Promise<void> {
  const { runId, post } = request;
  try {
    const {
      outputs: _outputs,
      artifacts: _artifacts,
      ...result
    } = await runtime.run(request.workflow, {
      runId,
      signal: request.signal,
      ...(request.targets ? { targets: request.targets } : {}),
      onEvent: (event) => post({ type: 'event', runId, event }),
      // Each file goes before the event that names it; the bytes are copied, the cache keeps its own.
      onArtifact: (artifact) => post({ type: 'artifact', runId, artifact }),
      onNodeOutputs: async (node) => {
        for (const preview of await outputPreviews(runtime, node)) post({ type: 'preview', runId, preview });
      },
    });
    post({ type: 'result', runId, result });
  } catch (error) {
    post({ type: 'crashed', runId, message: (error as Error)?.stack ?? String(error) });
  }
}

/** A preview of each IMAGE and MASK output of a node; an output that cannot be encoded is left out. */
export async function outputPreviews(runtime: Runtime, node: NodeOutputs): Promise<WorkerOutputPreview[]> {
  const def = runtime.catalog.get(node.nodeType);
  if (!def) return [];
  const previews: WorkerOutputPreview[] = [];
  for (const [output, spec] of Object.entries(def.outputs)) {
    if (!isPreviewSocketType(spec.type)) continue;
    try {
      const encoded = await encodeOutputPreview(spec.type, node.outputs[output]);
      if (encoded)
        previews.push({
          ...encoded,
          nodeId: node.nodeId,
          nodeType: node.nodeType,
          output,
          socketType: spec.type,
        });
    } catch {
      // A preview is a convenience: the run goes on without it.
    }
  }
  return previews;
}
