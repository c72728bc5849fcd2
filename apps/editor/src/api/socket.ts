import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';

import type { ServerEvent } from '../util/run-state.js';

const EVENT_TYPES = [
  'run:queued',
  'run:start',
  'node:cached',
  'node:start',
  'node:progress',
  'node:done',
  'node:error',
  'node:warning',
  'run:done',
  'run:failed',
  'run:cancelled',
] as const;

let socket: Socket | undefined;

/** One socket per page; `onEvent` receives every run event, `onQueue` queue changes. */
export function connectEvents(onEvent: (event: ServerEvent) => void, onQueue: () => void): Socket {
  socket?.disconnect();
  const s = io({ path: '/socket.io', transports: ['websocket', 'polling'] });
  for (const type of EVENT_TYPES)
    s.on(type, (payload: Omit<ServerEvent, 'type'> & { type?: string }) => onEvent({ ...payload, type }));
  s.on('queue:changed', onQueue);
  socket = s;
  return s;
}

/** Asks for a run's events (after a reload, the server first sends its current state). */
export function subscribeRun(runId: string): void {
  socket?.emit('subscribe', { runId });
}

export function clientId(): string {
  const key = 'diffedit.clientId';
  let id = localStorage.getItem(key);
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem(key, id);
  }
  return id;
}
