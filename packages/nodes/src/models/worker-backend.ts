import { Worker } from 'node:worker_threads';
import { abortError, ModelError, sessionReleasedError, throwIfAborted } from './model-errors.js';
import type { ModelSession, RunOptions, SessionBackend } from './model-session.js';
import { SessionOpenError } from './ort-session.js';
import type { SessionCreateOptions } from './ort-session.js';
import { ProgramSessionFailure } from './program.js';
import type { HostProgramRequest, ProgramCall, ProgramHost, ProgramStats } from './program.js';
import type { OpenResult, WorkerEvent, WorkerReply, WorkerRequest } from './worker-protocol.js';
import { isWorkerEvent, transferList } from './worker-protocol.js';
import type { WireFeeds } from './wire-tensor.js';
import { defaultWorkerPath, workerFileExists } from './worker-location.js';

type Pending = {
  resolve: (value: unknown, ms?: number) => void;
  reject: (error: Error) => void;
  worker: Worker;
  /** a program's calls (with its events and its reply) and events */
  calls?: (calls: readonly ProgramCall[]) => void;
  event?: (event: unknown) => void;
  stats?: (stats: ProgramStats) => void;
};

// Requests without the id, which the backend assigns.
type WorkerCall =
  | { op: 'open'; path: string; options: SessionCreateOptions }
  | { op: 'run'; sessionId: number; feeds: WireFeeds; outputs?: readonly string[] }
  | { op: 'release'; sessionId: number }
  | Omit<Extract<WorkerRequest, { op: 'program' }>, 'id'>;

/**
 * Runs every session in one worker thread. Input buffers are transferred to the worker and output buffers back,
 * so no tensor is copied on the way. The worker is unref'd while idle so it never keeps the process alive.
 */
export class WorkerBackend implements SessionBackend, ProgramHost {
  readonly mode = 'worker' as const;
  readonly workerPath: string;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  /** Calls the worker has not answered yet, abandoned ones (aborted) included. */
  private readonly unanswered = new Set<number>();
  private answeredWaiters: Array<() => void> = [];
  private nextId = 1;
  /** Counts worker threads started; a session belongs to the one it was opened in. */
  private generation = 0;
  /** Open sessions by the key programs name them with: their id in the worker, and that worker's generation. */
  private readonly linked = new Map<number, { sessionId: number; generation: number }>();
  private nextLink = 1;
  /** How to stop each program the worker has not answered yet (close() stops them at their next step). */
  private readonly programStops = new Map<number, () => void>();
  /** Programs running per session key: releasing the session stops them (they then fail as released). */
  private readonly programsOfSession = new Map<number, Set<(path: string) => void>>();

  constructor(workerPath: string = defaultWorkerPath()) {
    this.workerPath = workerPath;
  }

  private ensureWorker(): Worker {
    if (this.worker !== undefined) return this.worker;
    if (!workerFileExists(this.workerPath)) {
      throw new ModelError(
        'model_worker_missing',
        this.workerPath.replace(/[\\/][^\\/]*$/, ''),
        'inference-worker.js',
        `the compiled inference worker ${this.workerPath} does not exist; build the packages first (npx tsc -b) ` +
          `or use the in-process mode`,
      );
    }
    const worker = new Worker(this.workerPath);
    liveBackends.add(this); // registered per started worker: a backend used again after close() is found too
    this.generation++;
    worker.on('message', (message: WorkerReply | WorkerEvent) => {
      if (isWorkerEvent(message)) this.deliver(message);
      else this.settle(message);
    });
    worker.on('error', (error: Error) => this.failAll(worker, error));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.unanswered.clear();
      this.programStops.clear();
      this.notifyAnswered();
      this.failAll(worker, new Error(`inference worker exited with code ${code}`));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** An event of a running program (dropped when the program was abandoned). */
  private deliver(message: WorkerEvent): void {
    const pending = this.pending.get(message.id);
    if (pending === undefined) return;
    if (message.calls.length > 0) pending.calls?.(message.calls);
    if (message.event !== undefined) pending.event?.(message.event);
  }

  private settle(reply: WorkerReply): void {
    this.unanswered.delete(reply.id);
    this.programStops.delete(reply.id);
    if (this.unanswered.size === 0) this.notifyAnswered();
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.calls !== undefined && reply.calls.length > 0) pending.calls?.(reply.calls);
    if (reply.ok && reply.stats !== undefined) pending.stats?.(reply.stats);
    if (reply.ok) pending.resolve(reply.result, reply.ms);
    else {
      const { attempts, role, message, name } = reply.error;
      const error =
        attempts !== undefined
          ? Object.assign(new SessionOpenError('model', attempts), { message })
          : role !== undefined
            ? new ProgramSessionFailure(role, message, name)
            : Object.assign(new Error(message), { name });
      pending.reject(error);
    }
  }

  private notifyAnswered(): void {
    const waiters = this.answeredWaiters;
    this.answeredWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Rejects the calls that were waiting on `worker` (a later worker's calls are not affected). */
  private failAll(worker: Worker, error: Error): void {
    for (const [id, p] of [...this.pending.entries()]) {
      if (p.worker !== worker) continue;
      this.pending.delete(id);
      p.reject(new ModelError('model_worker_failed', this.workerPath, undefined, error.message, error));
    }
  }

  private call<T>(
    request: WorkerCall,
    transfer: readonly ArrayBuffer[] = [],
    signal?: AbortSignal,
    onMs?: (ms: number) => void,
    program?: Pick<Pending, 'calls' | 'event' | 'stats'> & {
      cancel: (id: number) => void;
      started: (id: number) => void;
    },
  ): Promise<T> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        // The worker finishes the call it is in (a program stops at its next step); its reply is then ignored.
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker?.unref();
        program?.cancel(id);
        reject(abortError(signal as AbortSignal));
      };
      this.pending.set(id, {
        ...(program === undefined
          ? {}
          : { calls: program.calls, event: program.event, stats: program.stats }),
        worker,
        resolve: (value, ms) => {
          signal?.removeEventListener('abort', onAbort);
          if (ms !== undefined) onMs?.(ms);
          resolve(value as T);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.ref();
      this.unanswered.add(id);
      if (program !== undefined) {
        this.programStops.set(id, () => program.cancel(id));
        program.started(id);
      }
      worker.postMessage({ ...request, id } as WorkerRequest, [...transfer]);
    });
  }

  /**
   * Runs a program in the worker, next to its sessions: one request, events while it runs, one reply. An abort
   * rejects at once and tells the worker, whose program stops at its next step.
   */
  async runProgram(request: HostProgramRequest): Promise<unknown> {
    throwIfAborted(request.signal);
    const sessions: Record<string, number> = {};
    for (const [role, key] of Object.entries(request.sessions)) {
      const linked = this.linked.get(key);
      if (linked === undefined) throw sessionReleasedError(`session ${key} (${role})`);
      sessions[role] = linked.sessionId;
      if (this.worker === undefined || linked.generation !== this.generation) {
        throw new ModelError(
          'model_worker_failed',
          request.name,
          undefined,
          'the inference worker that held its sessions has stopped; release the model and load it again',
        );
      }
    }
    const cancel = new SharedArrayBuffer(4);
    const call: WorkerCall = {
      op: 'program',
      module: request.module,
      name: request.name,
      sessions,
      input: request.input,
      recordFeeds: request.recordFeeds,
      measure: request.onStats !== undefined,
      cancel,
    };
    const stop = (id: number): void => {
      if (Atomics.exchange(new Int32Array(cancel), 0, 1) !== 0) return;
      this.worker?.postMessage({ op: 'cancel', id } satisfies WorkerRequest);
    };
    // releasing one of its sessions stops the program, which then fails as a run on a released session would
    let requestId: number | undefined;
    let releasedPath: string | undefined;
    const onRelease = (path: string): void => {
      releasedPath ??= path;
      if (requestId !== undefined) stop(requestId);
    };
    const keys = Object.values(request.sessions);
    for (const key of keys) {
      const set = this.programsOfSession.get(key) ?? new Set();
      set.add(onRelease);
      this.programsOfSession.set(key, set);
    }
    try {
      return await this.call<unknown>(call, request.transfer, request.signal, undefined, {
        calls: request.onCalls,
        ...(request.onEvent === undefined ? {} : { event: request.onEvent }),
        ...(request.onStats === undefined ? {} : { stats: request.onStats }),
        cancel: stop,
        started: (id) => {
          requestId = id;
        },
      });
    } catch (error) {
      if (releasedPath !== undefined && !(request.signal?.aborted ?? false)) {
        throw sessionReleasedError(releasedPath);
      }
      throw error;
    } finally {
      for (const key of keys) this.programsOfSession.get(key)?.delete(onRelease);
    }
  }

  async open(path: string, options: SessionCreateOptions): Promise<ModelSession> {
    const opened = await this.call<OpenResult>({ op: 'open', path, options });
    const generation = this.generation;
    const linkKey = this.nextLink++;
    this.linked.set(linkKey, { sessionId: opened.sessionId, generation });
    let released = false;
    return {
      path,
      provider: opened.provider,
      attempts: opened.attempts,
      inputs: opened.inputs,
      outputs: opened.outputs,
      mode: 'worker',
      transfersInputs: true,
      link: {
        host: this,
        key: linkKey,
        wantsFeeds: () => false,
        onCall: () => {},
        onFailure: (error) => error,
        wantsStats: () => false,
        onStats: () => {},
      },
      run: async (feeds: WireFeeds, runOptions?: RunOptions): Promise<WireFeeds> => {
        if (released) throw sessionReleasedError(path);
        if (this.worker === undefined || this.generation !== generation) {
          throw new ModelError(
            'model_worker_failed',
            path,
            undefined,
            'the inference worker that held this session has stopped; release the model and load it again',
          );
        }
        throwIfAborted(runOptions?.signal);
        checkFeedSizes(path, feeds);
        const request: WorkerCall = { op: 'run', sessionId: opened.sessionId, feeds };
        if (runOptions?.outputs !== undefined) request.outputs = runOptions.outputs;
        return this.call<WireFeeds>(request, transferList(feeds), runOptions?.signal, runOptions?.onRunMs);
      },
      release: async (): Promise<void> => {
        if (released) return;
        released = true;
        this.linked.delete(linkKey);
        for (const stopProgram of this.programsOfSession.get(linkKey) ?? []) stopProgram(path);
        this.programsOfSession.delete(linkKey);
        if (this.worker === undefined || this.generation !== generation) return; // gone with its worker
        await this.call<null>({ op: 'release', sessionId: opened.sessionId });
      },
    };
  }

  /**
   * Stops the worker once it has answered every call sent to it: onnxruntime-node aborts the whole process
   * (SIGABRT) when a thread is terminated, or the process exits, while a session.run is in flight there.
   */
  async close(): Promise<void> {
    liveBackends.delete(this);
    const worker = this.worker;
    if (worker === undefined) return;
    worker.ref(); // keep the process alive until the call in flight has returned
    // a program stops at its next step (its caller gets an AbortError): at most one model call to wait for
    for (const stop of this.programStops.values()) stop();
    while (this.unanswered.size > 0 && this.worker === worker) {
      await new Promise<void>((resolve) => this.answeredWaiters.push(resolve));
    }
    if (this.worker === worker) this.worker = undefined;
    await worker.terminate();
  }
}

const liveBackends = new Set<WorkerBackend>();

/**
 * Closes every inference worker once its in-flight model call has returned, so that the process can then exit
 * without onnxruntime aborting it (a second Ctrl-C waits for at most one model call).
 */
export async function closeModelWorkers(): Promise<void> {
  await Promise.all([...liveBackends].map((backend) => backend.close()));
}

/**
 * Node 20 silently drops a message whose transfer list holds a detached buffer (a feed that was already sent
 * once), which would leave the call waiting forever: refuse a feed whose data does not fill its dims.
 */
function checkFeedSizes(path: string, feeds: WireFeeds): void {
  for (const [name, t] of Object.entries(feeds)) {
    const expected = t.dims.reduce((n, d) => n * d, 1);
    if (t.data.length !== expected) {
      throw new ModelError(
        'model_io_mismatch',
        path,
        undefined,
        `input '${name}' has ${t.data.length} values for dims [${t.dims.join(', ')}] (${expected})` +
          (t.data.length === 0
            ? ': its buffer was already transferred to the worker by an earlier call'
            : ''),
      );
    }
  }
}
