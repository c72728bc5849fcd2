import type { SessionDescription } from './io-spec.js';
import type { ProviderAttempt, SessionCreateOptions } from './ort-session.js';
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
  | { readonly op: 'release'; readonly id: number; readonly sessionId: number };

export interface OpenResult extends SessionDescription {
  readonly sessionId: number;
  readonly provider: string;
  readonly attempts: readonly ProviderAttempt[];
}

export interface WorkerFailure {
  readonly name: string;
  readonly message: string;
  readonly attempts?: readonly ProviderAttempt[];
}

export type WorkerReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly result: OpenResult | WireFeeds | null;
      /** for 'run': how long session.run took in the worker */
      readonly ms?: number;
    }
  | { readonly id: number; readonly ok: false; readonly error: WorkerFailure };

/** Buffers to transfer with a set of tensors; views into a shared buffer are not transferable and are left out. */
export function transferList(feeds: WireFeeds): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const t of Object.values(feeds)) {
    const buffer = t.data.buffer;
    if (buffer instanceof ArrayBuffer && t.data.byteOffset === 0 && t.data.byteLength === buffer.byteLength) {
      seen.add(buffer);
    }
  }
  return [...seen];
}
