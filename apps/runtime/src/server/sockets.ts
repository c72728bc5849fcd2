import type { Server as HttpServer } from 'node:http';

import { Server } from 'socket.io';
import type { Socket } from 'socket.io';

import { RunIdSchema } from '@diffedit/core';
import type { ClientToServerEvents, ServerEvent, ServerToClientEvents } from '@diffedit/core';

import { bearerToken, hostNameOf, isLoopbackHost, isSameOrigin, tokenMatches } from './auth.js';
import type { EventSink, RunQueue } from './run-queue.js';

type ApiSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const roomOf = (runId: string): string => `run:${runId}`;

export interface SocketOptions {
  token?: string;
  loopbackOnly: boolean;
  /** Other origins whose pages may connect (the server's --cors-origin). */
  corsOrigins: readonly string[];
}

/**
 * socket.io on the HTTP server: one room per run. Sockets that connect with a clientId join the rooms of the
 * runs submitted with it; others join with `subscribe`, and first receive the run's current state.
 */
export function createSocketServer(
  httpServer: HttpServer,
  options: SocketOptions,
): { io: Server<ClientToServerEvents, ServerToClientEvents>; sink: EventSink; serve(queue: RunQueue): void } {
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, {
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
    // Same rules as the HTTP API: no cross-site pages, no foreign Host names on loopback.
    allowRequest: (req, callback) => {
      const host = hostNameOf(req.headers.host);
      if (options.loopbackOnly && (host === undefined || !isLoopbackHost(host)))
        return callback('misdirected', false);
      const origin = req.headers.origin;
      callback(
        null,
        isSameOrigin(origin, req.headers.host) ||
          (origin !== undefined && options.corsOrigins.includes(origin)),
      );
    },
  });
  const clients = new Map<string, Set<ApiSocket>>();

  io.use((socket, next) => {
    if (options.token === undefined) return next();
    const auth = socket.handshake.auth as { token?: unknown };
    const presented =
      typeof auth.token === 'string' ? auth.token : bearerToken(socket.handshake.headers.authorization);
    if (tokenMatches(options.token, presented)) return next();
    next(new Error('unauthorized: connect with auth: { token }'));
  });

  const sink: EventSink = {
    join(clientId, runId) {
      for (const socket of clients.get(clientId) ?? []) void socket.join(roomOf(runId));
    },
    toRun(runId, event) {
      emit(io.to(roomOf(runId)), event);
    },
    toAll(event) {
      emit(io, event);
    },
  };

  const serve = (queue: RunQueue): void => {
    io.on('connection', (socket) => {
      const clientId = (socket.handshake.auth as { clientId?: unknown }).clientId;
      if (typeof clientId === 'string' && CLIENT_ID.test(clientId)) {
        const set = clients.get(clientId) ?? new Set();
        set.add(socket);
        clients.set(clientId, set);
        socket.on('disconnect', () => {
          set.delete(socket);
          if (set.size === 0) clients.delete(clientId);
        });
      }
      socket.on('subscribe', (request, ack) => {
        const parsed = RunIdSchema.safeParse((request as { runId?: unknown } | null)?.runId);
        const run = parsed.success ? queue.get(parsed.data) : undefined;
        if (!run) {
          const message = parsed.success ? `no run ${parsed.data}` : 'subscribe expects { runId }';
          if (typeof ack === 'function')
            ack({ ok: false, errors: [{ code: parsed.success ? 'not_found' : 'invalid_request', message }] });
          return;
        }
        // Joining and sending the state happen in one turn of the event loop: no event falls between them.
        void socket.join(roomOf(run.runId));
        socket.emit('run:state', { type: 'run:state', runId: run.runId, time: Date.now(), run });
        if (typeof ack === 'function') ack({ ok: true, run });
      });
      socket.on('unsubscribe', (request, ack) => {
        const runId = (request as { runId?: unknown } | null)?.runId;
        if (typeof runId === 'string') void socket.leave(roomOf(runId));
        if (typeof ack === 'function') ack({ ok: typeof runId === 'string' });
      });
    });
  };
  return { io, sink, serve };
}

/** Sends an event under its own type as the event name. */
function emit(target: { emit(event: string, payload: unknown): unknown }, event: ServerEvent): void {
  target.emit(event.type, event);
}
