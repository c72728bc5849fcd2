// Worker-thread entry: owns onnxruntime sessions so that session.run never blocks the main event loop.
// Loaded from the package's dist/ (see worker-location.ts); it imports nothing but onnxruntime and siblings.
import { parentPort } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import { openOrtSession, runOrtSession, SessionOpenError } from './ort-session.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';
import { transferList } from './worker-protocol.js';
import type { WireFeeds, WireTensor } from './wire-tensor.js';

const port = parentPort;
if (port === null) throw new Error('inference-worker.js must run in a worker thread');

const sessions = new Map<number, InferenceSession>();
let nextSessionId = 1;

/** Outputs that are views into a larger buffer are copied so their buffer can be transferred. */
function ownBuffers(feeds: WireFeeds): WireFeeds {
  const out: Record<string, WireTensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    const whole = t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength;
    out[name] = whole && t.data.buffer instanceof ArrayBuffer ? t : { ...t, data: t.data.slice() };
  }
  return out;
}

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  switch (request.op) {
    case 'open': {
      const opened = await openOrtSession(request.path, request.options);
      const sessionId = nextSessionId++;
      sessions.set(sessionId, opened.session);
      const { inputs, outputs, provider, attempts } = opened;
      return { id: request.id, ok: true, result: { sessionId, inputs, outputs, provider, attempts } };
    }
    case 'run': {
      const session = sessions.get(request.sessionId);
      if (session === undefined) throw new Error(`session ${request.sessionId} is not open in the worker`);
      const start = performance.now();
      const result = await runOrtSession(session, request.feeds, request.outputs);
      const ms = performance.now() - start;
      return { id: request.id, ok: true, result: ownBuffers(result), ms };
    }
    case 'release': {
      const session = sessions.get(request.sessionId);
      sessions.delete(request.sessionId);
      await session?.release();
      return { id: request.id, ok: true, result: null };
    }
  }
}

port.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (reply) => {
      const transfer =
        reply.ok && request.op === 'run' && reply.result !== null
          ? transferList(reply.result as WireFeeds)
          : [];
      port.postMessage(reply, transfer);
    },
    (error: unknown) => {
      const failure =
        error instanceof Error
          ? {
              name: error.name,
              message: error.message,
              ...(error instanceof SessionOpenError ? { attempts: error.attempts } : {}),
            }
          : { name: 'Error', message: String(error) };
      port.postMessage({ id: request.id, ok: false, error: failure } satisfies WorkerReply);
    },
  );
});
