import { SERVER_EVENT_NAMES } from '@diffedit/core';
import type { ClientToServerEvents, ServerToClientEvents } from '@diffedit/core';
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';

import type { EditorEvent } from '../util/run-state.js';
import { getToken, reportUnauthorized } from './auth.js';

type EditorSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
let socket: EditorSocket | undefined;

export function clientId(): string {
  const key = 'diffedit.clientId';
  let id = localStorage.getItem(key);
  if (!id) {
    // crypto.randomUUID needs a secure context; a server reached over plain http on a LAN address is not one.
    id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(
      '',
    );
    localStorage.setItem(key, id);
  }
  return id;
}

/** One socket per page; runs submitted with our clientId arrive without subscribing. */
export function connectEvents(onEvent: (event: EditorEvent) => void, onQueue: () => void): void {
  socket?.disconnect();
  // WebSocket only: long-polling adds nothing on a local server.
  const token = getToken();
  const s: EditorSocket = io({
    auth: { clientId: clientId(), ...(token !== undefined ? { token } : {}) },
    transports: ['websocket'],
  });
  s.on('connect_error', (error) => {
    if (error.message.startsWith('unauthorized')) reportUnauthorized();
  });
  const listener = (event: EditorEvent): void => onEvent(event);
  for (const name of SERVER_EVENT_NAMES) {
    if (name === 'queue:changed') s.on(name, onQueue);
    else (s as unknown as Socket).on(name, listener);
  }
  socket = s;
}

/** Joins a run's room (after a reload): the server answers with `run:state`, then live events. */
export function subscribeRun(runId: string): void {
  socket?.emit('subscribe', { runId });
}
