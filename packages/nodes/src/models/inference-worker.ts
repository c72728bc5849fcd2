// Worker-thread entry: owns onnxruntime sessions so that session.run never blocks the main event loop.
// Loaded from the package's dist/ (see worker-location.ts); it imports nothing but onnxruntime and siblings.
import { parentPort } from 'node:worker_threads';
import { openOrtSession, runOrtSession, SessionOpenError } from './ort-session.js';
import type { OpenedSession } from './ort-session.js';
import { hostProgram } from './program-host.js';
import type { HostedSession } from './program-host.js';
import { ProgramSessionFailure } from './program.js';
import type { ProgramCall } from './program.js';
import type { WorkerEvent, WorkerReply, WorkerRequest } from './worker-protocol.js';
import { transferList, wholeBuffer } from './worker-protocol.js';
import type { WireFeeds, WireTensor } from './wire-tensor.js';

const port = parentPort;
if (port === null) throw new Error('inference-worker.js must run in a worker thread');

const sessions = new Map<number, OpenedSession>();
let nextSessionId = 1;
/** Programs running, by request id: their cancellation. */
const programs = new Map<number, AbortController>();
/** Work in flight per session: a release waits for it (onnxruntime must not free a session mid-run). */
const inFlight = new Map<number, Set<Promise<unknown>>>();

function tracked<T>(sessionIds: readonly number[], work: Promise<T>): Promise<T> {
  for (const id of sessionIds) {
    const set = inFlight.get(id) ?? new Set();
    set.add(work);
    inFlight.set(id, set);
  }
  const untrack = (): void => {
    for (const id of sessionIds) inFlight.get(id)?.delete(work);
  };
  work.then(untrack, untrack);
  return work;
}

/** The buffers of recorded feeds (private copies) travel without a copy. */
function callBuffers(calls: readonly ProgramCall[]): ArrayBuffer[] {
  return calls.flatMap((c) => (c.feeds === undefined ? [] : transferList(c.feeds)));
}

function cancelledError(): Error {
  const error = new Error('The operation was aborted');
  error.name = 'AbortError';
  return error;
}

/** Outputs that are views into a larger buffer are copied so their buffer can be transferred. */
function ownBuffers(feeds: WireFeeds): WireFeeds {
  const out: Record<string, WireTensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    out[name] = wholeBuffer(t.data) !== undefined ? t : { ...t, data: t.data.slice() };
  }
  return out;
}

/** A reply and the buffers that move with it. */
interface Outgoing {
  readonly reply: WorkerReply;
  readonly transfer: readonly ArrayBuffer[];
}

async function handle(request: WorkerRequest): Promise<Outgoing | undefined> {
  switch (request.op) {
    case 'open': {
      const opened = await openOrtSession(request.path, request.options);
      const sessionId = nextSessionId++;
      sessions.set(sessionId, opened);
      const { inputs, outputs, provider, attempts } = opened;
      const result = { sessionId, inputs, outputs, provider, attempts };
      return { reply: { id: request.id, ok: true, result }, transfer: [] };
    }
    case 'run': {
      const session = sessions.get(request.sessionId);
      if (session === undefined) throw new Error(`session ${request.sessionId} is not open in the worker`);
      const start = performance.now();
      const result = await tracked(
        [request.sessionId],
        runOrtSession(session.session, request.feeds, request.outputs),
      );
      const ms = performance.now() - start;
      const owned = ownBuffers(result);
      return { reply: { id: request.id, ok: true, result: owned, ms }, transfer: transferList(owned) };
    }
    case 'release': {
      const session = sessions.get(request.sessionId);
      sessions.delete(request.sessionId);
      await Promise.allSettled([...(inFlight.get(request.sessionId) ?? [])]);
      inFlight.delete(request.sessionId);
      await session?.session.release();
      return { reply: { id: request.id, ok: true, result: null }, transfer: [] };
    }
    case 'program':
      return tracked(Object.values(request.sessions), runProgram(request));
    case 'cancel':
      programs.get(request.id)?.abort();
      return undefined;
  }
}

async function runProgram(request: Extract<WorkerRequest, { op: 'program' }>): Promise<Outgoing> {
  const hosted: Record<string, HostedSession> = {};
  for (const [role, sessionId] of Object.entries(request.sessions)) {
    const opened = sessions.get(sessionId);
    if (opened === undefined) throw new Error(`session ${sessionId} is not open in the worker`);
    hosted[role] = { session: opened.session, inputs: opened.inputs, outputs: opened.outputs };
  }
  const flag = new Int32Array(request.cancel);
  const controller = new AbortController();
  programs.set(request.id, controller);
  const post = (event: unknown, calls: ProgramCall[], transfer: readonly ArrayBuffer[]): void => {
    port?.postMessage({ id: request.id, event, calls } satisfies WorkerEvent, [
      ...transfer,
      ...callBuffers(calls),
    ]);
  };
  try {
    const { result, calls, stats } = await hostProgram({
      module: request.module,
      name: request.name,
      input: request.input,
      sessions: hosted,
      recordFeeds: request.recordFeeds,
      signal: controller.signal,
      cancelled: () => Atomics.load(flag, 0) !== 0 || controller.signal.aborted,
      cancelError: cancelledError,
      emit: post,
      deliverCalls: (calls) => post(undefined, calls, []),
      crossesThreads: true,
      measure: request.measure,
    });
    return {
      reply: {
        id: request.id,
        ok: true,
        result: result.value,
        calls,
        ...(stats === undefined ? {} : { stats }),
      },
      transfer: [...(result.transfer ?? []), ...callBuffers(calls)],
    };
  } finally {
    programs.delete(request.id);
  }
}

port.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (outgoing) => {
      if (outgoing !== undefined) port.postMessage(outgoing.reply, [...outgoing.transfer]);
    },
    (error: unknown) => {
      const failure =
        error instanceof Error
          ? {
              name: error instanceof ProgramSessionFailure ? error.causeName : error.name,
              message: error.message,
              ...(error instanceof SessionOpenError ? { attempts: error.attempts } : {}),
              ...(error instanceof ProgramSessionFailure ? { role: error.role } : {}),
            }
          : { name: 'Error', message: String(error) };
      port.postMessage({ id: request.id, ok: false, error: failure } satisfies WorkerReply);
    },
  );
});
