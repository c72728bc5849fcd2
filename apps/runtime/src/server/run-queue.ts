import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';

import type {
  ApiIssue,
  NodeArtifact,
  NodePreviewEvent,
  OutputPreview,
  RunAccepted,
  RunDetail,
  RunEvent,
  RunStreamEvent,
  ServerEvent,
  ValidWorkflow,
} from '@diffedit/core';

import type { Runtime } from '../runtime.js';
import type { FileStore } from './files.js';
import { ApiProblem, problem } from './problems.js';
import { applyEvent, applyResult, newRun } from './run-record.js';
import { RunLostError } from './run-executor.js';
import type { RunExecutor, RunStart } from './run-executor.js';
import type { WorkerOutputPreview, WorkerRunResult } from './run-worker-protocol.js';
import type { ServerStore } from './store.js';

/** Where the queue's events go (socket.io rooms in the server). */
export interface EventSink {
  /** Puts the sockets of `clientId` into the run's room, before any of its events are sent. */
  join(clientId: string, runId: string): void;
  toRun(runId: string, event: ServerEvent): void;
  toAll(event: ServerEvent): void;
}

export interface QueueLimits {
  maxNodes: number;
  /** Queued (not yet running) runs one client may have. */
  maxQueuedPerClient: number;
}

/** Model param values: a folder name in the models folder. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

interface Running {
  run: RunDetail;
  controller: AbortController;
  done: Promise<void>;
  /** Handed to the executor; started once it says a worker executes it (at once for the local worker). */
  started: boolean;
}

/**
 * The run queue: validates submissions with the runtime, keeps queue and history in the store, hands runs in
 * FIFO order to the executor (one at a time for the local worker; all at once to a queue of workers, which
 * start them as they free up), and turns the executor's events into wire events and stored state.
 */
export class RunQueue {
  /** Runs not started yet, oldest first (some may already be handed to a queue executor). */
  private readonly queued: string[] = [];
  private readonly queuedBy = new Map<string, string>();
  /** Runs handed to the executor. */
  private readonly active = new Map<string, Running>();
  private closing = false;

  constructor(
    /** Validates and names node types (main thread); runs go to the worker. */
    private readonly runtime: Runtime,
    private readonly executor: RunExecutor,
    private readonly store: ServerStore,
    private readonly files: FileStore,
    private readonly sink: EventSink,
    private readonly limits: QueueLimits,
    private readonly resolveInput: (value: string) => string,
  ) {}

  /**
   * Marks runs a dead process left running as failed, and resumes the queue. With a durable executor (a queue
   * of workers) those runs may still be executing, or be done: they are handed to it again, and it re-attaches.
   */
  start(): void {
    const resumed = this.executor.durable ? this.store.interruptedRuns() : [];
    for (const run of resumed) {
      this.queued.push(run.runId);
      if (run.clientId !== undefined) this.queuedBy.set(run.runId, run.clientId);
    }
    for (const run of this.executor.durable ? [] : this.store.interruptedRuns()) {
      const node = run.nodes.find((n) => n.state === 'running');
      for (const n of run.nodes) if (n.state === 'running') n.state = 'failed';
      run.status = 'failed';
      run.finishedAt ??= Date.now();
      run.error = {
        nodeId: node?.nodeId ?? null,
        ...(node ? { nodeType: node.nodeType } : {}),
        code: 'server_restarted',
        message: 'the server stopped while this run was executing',
      };
      this.store.updateRun(run);
    }
    for (const id of this.store.queuedRunIds()) {
      this.queued.push(id);
      const clientId = this.store.getRun(id)?.clientId;
      if (clientId !== undefined) this.queuedBy.set(id, clientId);
    }
    this.pump();
  }

  get length(): number {
    return this.queued.length;
  }

  /** The oldest running run (queue mode runs several at once: GET /api/runs?status=running lists them). */
  get runningId(): string | null {
    for (const running of this.active.values()) if (running.started) return running.run.runId;
    return null;
  }

  private get startedCount(): number {
    let n = 0;
    for (const running of this.active.values()) if (running.started) n++;
    return n;
  }

  /** Validates and queues a run; throws ApiProblem with every issue when it cannot be accepted. */
  submit(
    request: { workflow: unknown; targets?: string[]; clientId?: string },
    clientKey: string,
  ): RunAccepted {
    if (this.closing) throw problem(503, 'shutting_down', 'the server is shutting down');
    const nodes = (request.workflow as { nodes?: unknown } | null)?.nodes;
    if (Array.isArray(nodes) && nodes.length > this.limits.maxNodes)
      throw problem(
        400,
        'too_many_nodes',
        `the workflow has ${nodes.length} nodes; the limit is ${this.limits.maxNodes}`,
        'workflow.nodes',
      );
    const validation = this.runtime.validate(request.workflow, request.targets);
    if (!validation.ok) throw new ApiProblem(400, validation.issues);
    const fileIssues = this.checkNamedFiles(validation.workflow);
    if (fileIssues.length > 0) throw new ApiProblem(400, fileIssues);
    const refused = this.executor.admit(validation.workflow);
    if (refused.length > 0) throw new ApiProblem(503, refused);
    const owner = request.clientId ?? clientKey;
    const waiting = [...this.queuedBy.values()].filter((key) => key === owner).length;
    if (waiting >= this.limits.maxQueuedPerClient)
      throw problem(
        429,
        'queue_full',
        `this client already has ${waiting} queued runs (the limit is ${this.limits.maxQueuedPerClient})`,
      );

    const run = newRun({
      runId: randomUUID(),
      name: validation.workflow.name,
      workflow: request.workflow,
      ...(request.clientId !== undefined ? { clientId: request.clientId } : {}),
      ...(request.targets !== undefined ? { targets: request.targets } : {}),
    });
    this.store.insertRun(run);
    this.queued.push(run.runId);
    this.queuedBy.set(run.runId, owner);
    const position = this.positionOf(run.runId);
    if (request.clientId !== undefined) this.sink.join(request.clientId, run.runId);
    this.sink.toRun(run.runId, {
      type: 'run:queued',
      runId: run.runId,
      time: Date.now(),
      position,
      ...(request.clientId !== undefined ? { clientId: request.clientId } : {}),
    });
    this.queueChanged();
    queueMicrotask(() => this.pump());
    return { runId: run.runId, position };
  }

  /** The run as stored, with live state while it runs and its position while it waits. */
  get(runId: string): RunDetail | undefined {
    const running = this.active.get(runId);
    if (running?.started) return structuredClone(running.run);
    const run = this.store.getRun(runId);
    if (run?.status === 'queued') run.position = this.positionOf(runId);
    return run;
  }

  /** Cancels a queued run at once, or a running one (resolves once the executor has stopped it). */
  async cancel(runId: string): Promise<RunDetail> {
    const run = this.get(runId);
    if (!run) throw problem(404, 'not_found', `no run ${runId}`);
    const running = this.active.get(runId);
    if (running) {
      running.controller.abort();
      await running.done;
      return this.get(runId)!;
    }
    if (run.status !== 'queued')
      throw problem(409, 'run_finished', `run ${runId} has already finished (${run.status})`);
    this.removeQueued(runId);
    run.status = 'cancelled';
    run.finishedAt = Date.now();
    run.ms = 0;
    delete run.position;
    this.store.updateRun(run);
    this.sink.toRun(runId, { type: 'run:cancelled', runId, time: Date.now(), ms: 0, nodeId: null });
    this.queueChanged();
    return run;
  }

  /**
   * Stops taking runs and cancels the running one; queued runs stay queued for the next start. A durable
   * executor's runs are left to it (they go on on the workers; the next start re-attaches them).
   */
  async close(): Promise<void> {
    this.closing = true;
    if (this.executor.durable) return;
    for (const running of this.active.values()) {
      running.controller.abort();
      await running.done;
    }
  }

  private positionOf(runId: string): number {
    return this.queued.indexOf(runId) + this.startedCount;
  }

  private removeQueued(runId: string): void {
    const at = this.queued.indexOf(runId);
    if (at >= 0) this.queued.splice(at, 1);
    this.queuedBy.delete(runId);
  }

  private queueChanged(): void {
    this.sink.toAll({
      type: 'queue:changed',
      time: Date.now(),
      running: this.runningId,
      queued: [...this.queued],
    });
  }

  private pump(): void {
    if (this.closing) return;
    for (const runId of [...this.queued]) {
      if (this.active.size >= this.executor.capacity) return;
      if (this.active.has(runId)) continue;
      const run = this.store.getRun(runId);
      if (!run || (run.status !== 'queued' && !this.executor.durable)) {
        this.removeQueued(runId);
        continue;
      }
      const running: Running = {
        run,
        controller: new AbortController(),
        done: Promise.resolve(),
        started: false,
      };
      this.active.set(runId, running);
      running.done = this.execute(running).finally(() => {
        this.active.delete(runId);
        this.removeQueued(runId);
        this.queueChanged();
        this.pump();
      });
    }
  }

  /** The executor says the run is executing now (again, on a retry: what the last attempt reported is reset). */
  private started(running: Running, start: RunStart): void {
    const { run } = running;
    this.removeQueued(run.runId);
    running.started = true;
    run.status = 'running';
    run.startedAt = Date.now();
    run.nodes = [];
    run.cached = [];
    run.files = [];
    run.warnings = [];
    delete run.error;
    delete run.issues;
    if (start.worker !== undefined) {
      run.worker = start.worker;
      run.attempts = start.attempt;
    }
    this.store.updateRun(run);
    this.queueChanged();
  }

  private async execute(running: Running): Promise<void> {
    const { run } = running;
    const signal = running.controller.signal;
    const fileRefs = new Map<string, ReturnType<FileStore['storeOutput']>>();
    const typeOf = (nodeId: string): string =>
      ((run.workflow as { nodes?: { id: string; type: string }[] }).nodes ?? []).find((n) => n.id === nodeId)
        ?.type ?? '';
    const onArtifact = (artifact: NodeArtifact): void => {
      try {
        fileRefs.set(`${artifact.nodeId}\0${artifact.name}`, this.files.storeOutput(run.runId, artifact));
      } catch (error) {
        // Disk full, permissions: the run goes on, the file is reported missing.
        run.warnings.push({
          nodeId: artifact.nodeId,
          nodeType: typeOf(artifact.nodeId),
          code: 'output_not_stored',
          message: `could not store ${artifact.name}: ${(error as Error).message}`,
        });
      }
    };
    const onEvent = (event: RunEvent): void => {
      const wire = this.toWire(run.runId, event, fileRefs);
      if (applyEvent(run, wire, typeOf)) this.store.updateRun(run);
      this.sink.toRun(run.runId, wire);
    };
    const onPreview = (preview: WorkerOutputPreview): void => {
      let stored: OutputPreview;
      try {
        stored = this.files.storeOutputPreview(run.runId, preview);
      } catch (error) {
        run.warnings.push({
          nodeId: preview.nodeId,
          nodeType: preview.nodeType,
          code: 'preview_not_stored',
          message: `could not store the preview of ${preview.output}: ${(error as Error).message}`,
        });
        return;
      }
      const event: NodePreviewEvent = {
        type: 'node:preview',
        runId: run.runId,
        time: Date.now(),
        nodeId: preview.nodeId,
        nodeType: preview.nodeType,
        preview: stored,
      };
      if (applyEvent(run, event, typeOf)) this.store.updateRun(run);
      this.sink.toRun(run.runId, event);
    };
    let result: WorkerRunResult | undefined;
    try {
      result = await this.executor.run(run.workflow, {
        runId: run.runId,
        signal,
        onStart: (start) => this.started(running, start),
        onEvent,
        onArtifact,
        onPreview,
        ...(run.targets ? { targets: run.targets } : {}),
      });
    } catch (error) {
      // The server is stopping and the run goes on elsewhere (queue mode): the next start re-attaches it.
      if (this.closing && this.executor.durable) return;
      // A bug, not a failed node (or a run the queue lost, with its own code): say so, and keep serving.
      const lost = error instanceof RunLostError;
      run.status = 'failed';
      run.error = {
        nodeId: null,
        code: lost ? error.code : 'internal_error',
        message: lost ? error.message : `internal error: ${(error as Error).message}`,
      };
      this.sink.toRun(run.runId, {
        type: 'run:failed',
        runId: run.runId,
        time: Date.now(),
        ms: 0,
        error: run.error,
      });
    }
    if (result) applyResult(run, result);
    run.finishedAt = Date.now();
    this.store.updateRun(run);
  }

  private toWire(
    runId: string,
    event: RunEvent,
    fileRefs: Map<string, ReturnType<FileStore['storeOutput']>>,
  ): RunStreamEvent {
    switch (event.type) {
      case 'node:done':
      case 'node:cached': {
        const artifacts = event.artifacts.flatMap((a) => fileRefs.get(`${event.nodeId}\0${a.name}`) ?? []);
        return { ...event, artifacts };
      }
      case 'node:progress': {
        const { preview, ...rest } = event;
        return preview ? { ...rest, preview: this.files.preview(runId, event.nodeId, preview) } : rest;
      }
      default:
        return event;
    }
  }

  /** In server mode file params must be uploads or shipped assets, and model params plain folder names. */
  private checkNamedFiles(workflow: ValidWorkflow): ApiIssue[] {
    const issues: ApiIssue[] = [];
    for (const node of workflow.nodes) {
      const def = this.runtime.catalog.get(node.type);
      if (!def) continue;
      for (const [param, spec] of Object.entries(def.params)) {
        const value = String(node.params[param] ?? '');
        if (spec.kind === 'file') {
          let path: string;
          try {
            path = this.resolveInput(value);
          } catch (error) {
            issues.push({
              nodeId: node.id,
              field: param,
              code: 'file_not_allowed',
              message: (error as Error).message,
            });
            continue;
          }
          if (!existsSync(path))
            issues.push({
              nodeId: node.id,
              field: param,
              code: 'file_not_found',
              message: `no file '${value}' on the server`,
            });
        } else if (spec.kind === 'model' && (!MODEL_NAME.test(value) || value.includes('..'))) {
          issues.push({
            nodeId: node.id,
            field: param,
            code: 'model_not_allowed',
            message: `'${value.slice(0, 80)}' is not a model folder name (letters, digits, '.', '_', '-'; no paths)`,
          });
        }
      }
    }
    return issues;
  }
}
