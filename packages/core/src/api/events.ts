import type { RunEvent } from '../graph/events.js';
import type { FileRef, OutputPreview, RunDetail } from './schemas.js';

/**
 * socket.io events of the runtime server. The executor's RunEvents go out under their own `type` as the event
 * name, with two changes for the wire: artifacts become downloadable FileRefs, and progress previews become a
 * URL (a small `data:` URL, or /api/files/pv_…). New executor events (e.g. `node:warning`) pass through as-is.
 */

/** A progress preview as sent to clients. */
export interface WirePreview {
  mime: string;
  width?: number;
  height?: number;
  /** `data:image/png;base64,…` for small previews, otherwise `/api/files/pv_….png`. */
  url: string;
}

type EventOf<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;
type Rewired = 'node:progress' | 'node:done' | 'node:cached';

/** An executor event as a client receives it. */
export type RunStreamEvent =
  | Exclude<RunEvent, { type: Rewired }>
  | (Omit<EventOf<'node:progress'>, 'preview'> & { preview?: WirePreview })
  | (Omit<EventOf<'node:done'>, 'artifacts'> & { artifacts: FileRef[] })
  | (Omit<EventOf<'node:cached'>, 'artifacts'> & { artifacts: FileRef[] });

/**
 * A preview of one IMAGE or MASK output of a node, sent before the node's `node:done` / `node:cached` (once per
 * such output, cached nodes included). It replaces any earlier preview of that output.
 */
export interface NodePreviewEvent {
  type: 'node:preview';
  runId: string;
  time: number;
  nodeId: string;
  nodeType: string;
  preview: OutputPreview;
}

/** Accepted and waiting: `position` runs are ahead of it. */
export interface RunQueuedEvent {
  type: 'run:queued';
  runId: string;
  time: number;
  position: number;
  clientId?: string;
}

/** Sent first to a client that subscribes to a run: everything known so far (then live events follow). */
export interface RunStateEvent {
  type: 'run:state';
  runId: string;
  time: number;
  run: RunDetail;
}

/** Broadcast to every client whenever the queue changes. */
export interface QueueChangedEvent {
  type: 'queue:changed';
  time: number;
  running: string | null;
  /** Waiting runs, next first. */
  queued: string[];
}

export type ServerEvent =
  RunStreamEvent | NodePreviewEvent | RunQueuedEvent | RunStateEvent | QueueChangedEvent;
export type ServerEventName = ServerEvent['type'];

/** Event names a client may listen to (`node:warning` arrives once the executor emits it). */
export const SERVER_EVENT_NAMES = [
  'run:queued',
  'run:state',
  'run:start',
  'node:cached',
  'node:start',
  'node:progress',
  'node:log',
  'node:warning',
  'node:preview',
  'node:done',
  'node:error',
  'run:done',
  'run:failed',
  'run:cancelled',
  'queue:changed',
] as const;

/** The events that end a run. */
export const RUN_END_EVENTS = ['run:done', 'run:failed', 'run:cancelled'] as const;

/** Typed map for `socket.io-client`: `io(url) as Socket<ServerToClientEvents, ClientToServerEvents>`. */
export type ServerToClientEvents = {
  [K in ServerEventName]: (event: Extract<ServerEvent, { type: K }>) => void;
};

export type SubscribeAck =
  { ok: true; run: RunDetail } | { ok: false; errors: { code: string; message: string }[] };

export interface ClientToServerEvents {
  /** Join a run's room: the server sends `run:state` first, then the run's live events. */
  subscribe(request: { runId: string }, ack?: (result: SubscribeAck) => void): void;
  unsubscribe(request: { runId: string }, ack?: (result: { ok: boolean }) => void): void;
}

/**
 * What a client sends in the socket.io handshake: `io(url, { auth: { token, clientId } })`. Runs submitted
 * with the same clientId are delivered to that socket without subscribing.
 */
export interface SocketAuth {
  token?: string;
  clientId?: string;
}
