import type { SessionDescription } from './io-spec.js';
import type { ProviderAttempt, SessionCreateOptions } from './ort-session.js';
import type { ProgramCall, ProgramStats } from './program.js';
import type { WireFeeds } from './wire-tensor.js';

/** Messages from the main thread to the inference worker. */
export type WorkerRequest =
  | {
      readonly op: 'open';
      readonly id: number;
      readonly path: string;
      readonly options: SessionCreateOptions;
    }
  | {
      readonly op: 'run';
      readonly id: number;
      readonly sessionId: number;
      readonly feeds: WireFeeds;
      readonly outputs?: readonly string[];
    }
  | { readonly op: 'release'; readonly id: number; readonly sessionId: number }
  | {
      readonly op: 'program';
      readonly id: number;
      readonly module: string;
      readonly name: string;
      readonly sessions: Readonly<Record<string, number>>;
      readonly input: unknown;
      readonly recordFeeds: readonly string[];
      /** measure the worker thread's CPU (ProgramStats) */
      readonly measure: boolean;
      /** Int32 [1]: the caller stores 1 to cancel (read between steps, while the worker's loop is busy) */
      readonly cancel: SharedArrayBuffer;
    }
  /** Cancels program `id` (also aborts its signal); no reply of its own. */
  | { readonly op: 'cancel'; readonly id: number };

export interface OpenResult extends SessionDescription {
  readonly sessionId: number;
  readonly provider: string;
  readonly attempts: readonly ProviderAttempt[];
}

export interface WorkerFailure {
  readonly name: string;
  readonly message: string;
  readonly attempts?: readonly ProviderAttempt[];
  /** A program's session call failed: the role of that session. */
  readonly role?: string;
}

export type WorkerReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly result: unknown;
      /** for 'run': how long session.run took in the worker */
      readonly ms?: number;
      /** for 'program': the session calls not reported with an event yet */
      readonly calls?: readonly ProgramCall[];
      /** for 'program', when asked to measure */
      readonly stats?: ProgramStats;
    }
  | {
      readonly id: number;
      readonly ok: false;
      readonly error: WorkerFailure;
      readonly calls?: readonly ProgramCall[];
    };

/** Sent by a running program (its reply comes later, with the same id). */
export interface WorkerEvent {
  readonly id: number;
  readonly event: unknown;
  /** the session calls made since the last message about this program */
  readonly calls: readonly ProgramCall[];
}

export function isWorkerEvent(message: WorkerReply | WorkerEvent): message is WorkerEvent {
  return 'event' in message;
}

/**
 * The buffer `data` spans whole, when it is a transferable ArrayBuffer: only such a buffer can move to another
 * thread as it is (a view would be cloned with its whole buffer; a SharedArrayBuffer is shared, not moved).
 */
export function wholeBuffer(data: ArrayBufferView): ArrayBuffer | undefined {
  const buffer = data.buffer;
  return buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buffer.byteLength
    ? buffer
    : undefined;
}

/** The buffers of `arrays` that can move to another thread as they are (wholeBuffer), to hand over with them. */
export function ownedBuffers(...arrays: ArrayBufferView[]): ArrayBuffer[] {
  return arrays.flatMap((a) => {
    const buffer = wholeBuffer(a);
    return buffer === undefined ? [] : [buffer];
  });
}

/** Buffers to transfer with a set of tensors; views into a larger buffer are not transferable and are left out. */
export function transferList(feeds: WireFeeds): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const t of Object.values(feeds)) {
    const buffer = wholeBuffer(t.data);
    if (buffer !== undefined) seen.add(buffer);
  }
  return [...seen];
}
