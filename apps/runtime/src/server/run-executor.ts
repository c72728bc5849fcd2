import type { ApiIssue, NodeArtifact, RunEvent, ValidWorkflow } from '@diffedit/core';
import type { ProviderInfo } from '@diffedit/nodes';

import type {
  FromWorker,
  WorkerCall,
  WorkerCalls,
  WorkerOutputPreview,
  WorkerRunResult,
} from './run-worker-protocol.js';

/** Where a run was executed (queue mode): the worker that started it and which attempt this is. */
export interface RunStart {
  worker?: string;
  attempt: number;
}

export interface ExecuteOptions {
  runId: string;
  signal: AbortSignal;
  targets?: string[];
  /** The run has started executing (at once for the local worker; when a queue worker takes it otherwise). */
  onStart(start: RunStart): void;
  onEvent(event: RunEvent): void;
  onArtifact(artifact: NodeArtifact): void;
  onPreview(preview: WorkerOutputPreview): void;
}

/**
 * What executes the server's runs: the local run worker thread (RunWorkerClient, the default) or a queue of
 * worker processes (QueueExecutor, `serve --queue`). RunQueue knows only this.
 */
export interface RunExecutor {
  /** How many runs it executes at once (RunQueue hands it at most this many). */
  readonly capacity: number;
  /** Runs survive the server process (queue mode): on restart, runs left running are re-attached, not failed. */
  readonly durable: boolean;
  run(workflow: unknown, options: ExecuteOptions): Promise<WorkerRunResult>;
  /** Problems that stop it from accepting this run now (e.g. no worker holds a model); [] when it can. */
  admit(workflow: ValidWorkflow): ApiIssue[];
  call<M extends WorkerCall>(method: M): Promise<Awaited<ReturnType<WorkerCalls[M]>>>;
  providerInfoNow(): Pick<ProviderInfo, 'configured' | 'sessions'>;
  /** Workers behind it (queue mode), for /api/health. */
  workersNow?(): WorkerInfo[];
  close(): Promise<void>;
}

/** A queue worker as its heartbeat advertises it. */
export interface WorkerInfo {
  id: string;
  models: string[];
  /** The run it is executing, or null. */
  running: string | null;
}

/** A run's messages of the run worker protocol (every FromWorker message that names a run). */
export type RunMessage = Extract<FromWorker, { runId: string }>;

/** An error with a stable code RunQueue reports as the run's error code (instead of internal_error). */
export class RunLostError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Delivers one run message to a run's callbacks: the one place that knows the message kinds, shared by the
 * local worker client and the queue backend (which carries the messages unchanged), so a new kind added to the
 * protocol reaches the server the same way in both modes. Returns the result once the run has ended.
 */
export function deliverRunMessage(
  message: RunMessage,
  target: Pick<ExecuteOptions, 'onEvent' | 'onArtifact' | 'onPreview'>,
): { result: WorkerRunResult } | { crashed: string } | undefined {
  switch (message.type) {
    case 'event':
      target.onEvent(message.event);
      return undefined;
    case 'artifact':
      target.onArtifact(message.artifact);
      return undefined;
    case 'preview':
      target.onPreview(message.preview);
      return undefined;
    case 'result':
      return { result: message.result };
    case 'crashed':
      return { crashed: message.message };
    default:
      return undefined;
  }
}
