import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { ApiIssue } from '@diffedit/core';
import { DEFAULT_PROVIDERS } from '@diffedit/nodes';
import type { ProviderInfo } from '@diffedit/nodes';

import { deliverRunMessage } from './run-executor.js';
import type { ExecuteOptions, RunExecutor, RunMessage } from './run-executor.js';
import type {
  FromWorker,
  RunWorkerData,
  ToWorker,
  WorkerCall,
  WorkerCalls,
  WorkerRunResult,
} from './run-worker-protocol.js';

/**
 * The compiled worker entry: worker threads load JavaScript, so even from the TypeScript sources (vitest) it
 * comes from dist/ (`npm test` builds first). src/server and dist/server both sit two folders below the package.
 */
export function defaultRunWorkerPath(): string {
  return fileURLToPath(new URL('../../dist/server/run-worker.js', import.meta.url));
}

/** Runs workflows in the run worker and asks it about its cache and models; restarts it if it dies. */
export class RunWorkerClient implements RunExecutor {
  readonly capacity = 1;
  readonly durable = false;
  private worker: Worker | undefined;
  private nextCall = 0;
  private readonly calls = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private readonly runs = new Map<
    string,
    { onMessage(message: RunMessage): void; reject(error: Error): void }
  >();
  private providers: ProviderInfo | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly data: RunWorkerData,
    private readonly log: (line: string) => void,
    private readonly workerPath = defaultRunWorkerPath(),
  ) {}

  run(workflow: unknown, options: ExecuteOptions): Promise<WorkerRunResult> {
    options.onStart({ attempt: 1 });
    return new Promise<WorkerRunResult>((resolve, reject) => {
      this.execute(workflow, options, (message) => {
        const end = deliverRunMessage(message, options);
        if (end && 'result' in end) resolve(end.result);
        else if (end) reject(new Error(end.crashed));
      }).catch(reject);
    });
  }

  /**
   * Runs a workflow and hands every message of the run, unchanged, to `onMessage` (a queue worker forwards them
   * to the server); resolves once its result or crash has been handed over, rejects if the thread dies.
   */
  execute(
    workflow: unknown,
    options: { runId: string; signal: AbortSignal; targets?: string[] },
    onMessage: (message: RunMessage) => void,
  ): Promise<void> {
    const worker = this.ensureWorker();
    const { runId, signal } = options;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => this.send(worker, { type: 'cancel', runId });
      const settle = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.runs.delete(runId);
      };
      this.runs.set(runId, {
        onMessage: (message) => {
          onMessage(message);
          if (message.type === 'result' || message.type === 'crashed') {
            settle();
            resolve();
          }
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

  admit(): ApiIssue[] {
    return [];
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
      case 'reply': {
        const call = this.calls.get(message.id);
        this.calls.delete(message.id);
        if (message.ok) call?.resolve(message.value);
        else call?.reject(new Error(message.message));
        return;
      }
      case 'log':
        this.log(message.line);
        return;
      default:
        // Every other message belongs to a run: handed over as it is, whatever its kind.
        this.runs.get(message.runId)?.onMessage(message);
        if (message.type === 'result') this.refreshProviders();
    }
  }
}
