import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { NodeArtifact, RunEvent } from '@diffedit/core';
import { DEFAULT_PROVIDERS } from '@diffedit/nodes';
import type { ProviderInfo } from '@diffedit/nodes';

import type {
  FromWorker,
  RunWorkerData,
  ToWorker,
  WorkerCall,
  WorkerCalls,
  WorkerOutputPreview,
  WorkerRunResult,
} from './run-worker-protocol.js';

/**
 * The compiled worker entry: worker threads load JavaScript, so even from the TypeScript sources (vitest) it
 * comes from dist/ (`npm test` builds first). src/server and dist/server both sit two folders below the package.
 */
export function defaultRunWorkerPath(): string {
  return fileURLToPath(new URL('../../dist/server/run-worker.js', import.meta.url));
}

interface PendingRun {
  onEvent(event: RunEvent): void;
  onArtifact(artifact: NodeArtifact): void;
  onPreview(preview: WorkerOutputPreview): void;
  resolve(result: WorkerRunResult): void;
  reject(error: Error): void;
}

/** Runs workflows in the run worker and asks it about its cache and models; restarts it if it dies. */
export class RunWorkerClient {
  private worker: Worker | undefined;
  private nextCall = 0;
  private readonly calls = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private readonly runs = new Map<string, PendingRun>();
  private providers: ProviderInfo | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly data: RunWorkerData,
    private readonly log: (line: string) => void,
    private readonly workerPath = defaultRunWorkerPath(),
  ) {}

  run(
    workflow: unknown,
    options: {
      runId: string;
      signal: AbortSignal;
      targets?: string[];
      onEvent(event: RunEvent): void;
      onArtifact(artifact: NodeArtifact): void;
      onPreview(preview: WorkerOutputPreview): void;
    },
  ): Promise<WorkerRunResult> {
    const worker = this.ensureWorker();
    const { runId, signal } = options;
    return new Promise<WorkerRunResult>((resolve, reject) => {
      const onAbort = (): void => this.send(worker, { type: 'cancel', runId });
      const settle = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.runs.delete(runId);
      };
      this.runs.set(runId, {
        onEvent: options.onEvent,
        onArtifact: options.onArtifact,
        onPreview: options.onPreview,
        resolve: (result) => {
          settle();
          resolve(result);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      signal.addEventListener('abort', onAbort, { once: true });
      this.send(worker, {
        type: 'run',
        runId,
        workflow,
        ...(options.targets ? { targets: options.targets } : {}),
      });
      if (signal.aborted) onAbort();
    });
  }

  call<M extends WorkerCall>(method: M): Promise<Awaited<ReturnType<WorkerCalls[M]>>> {
    const worker = this.ensureWorker();
    const id = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.send(worker, { type: 'call', id, method });
    });
  }

  /**
   * The providers as last reported, without waiting: the worker answers calls only between the nodes' work,
   * and /api/health must answer at once. Asks for a fresh report in the background.
   */
  providerInfoNow(): Pick<ProviderInfo, 'configured' | 'sessions'> {
    this.refreshProviders();
    return this.providers ?? { configured: this.data.providers ?? DEFAULT_PROVIDERS, sessions: [] };
  }

  private refreshProviders(): void {
    if (this.refreshing || !this.worker) return;
    this.refreshing = this.call('providerInfo')
      .then((info) => void (this.providers = info))
      .catch(() => {})
      .finally(() => (this.refreshing = undefined));
  }

  /** Releases the worker's models and stops it. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    try {
      await this.call('close');
    } finally {
      this.worker = undefined;
      await worker.terminate();
    }
  }

  private send(worker: Worker, message: ToWorker): void {
    worker.postMessage(message);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerPath, { workerData: this.data });
    worker.on('message', (message: FromWorker) => this.receive(message));
    const fail = (error: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const run of [...this.runs.values()]) run.reject(error);
      for (const call of [...this.calls.values()]) call.reject(error);
      this.calls.clear();
    };
    worker.on('error', (error) => fail(new Error(`the run worker crashed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`the run worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private receive(message: FromWorker): void {
    switch (message.type) {
      case 'event':
        this.runs.get(message.runId)?.onEvent(message.event);
        return;
      case 'artifact':
        this.runs.get(message.runId)?.onArtifact(message.artifact);
        return;
      case 'preview':
        this.runs.get(message.runId)?.onPreview(message.preview);
        return;
      case 'result':
        this.runs.get(message.runId)?.resolve(message.result);
        this.refreshProviders();
        return;
      case 'crashed':
        this.runs.get(message.runId)?.reject(new Error(message.message));
        return;
      case 'reply': {
        const call = this.calls.get(message.id);
        this.calls.delete(message.id);
        if (message.ok) call?.resolve(message.value);
        else call?.reject(new Error(message.message));
        return;
      }
      case 'log':
        this.log(message.line);
    }
  }
}
