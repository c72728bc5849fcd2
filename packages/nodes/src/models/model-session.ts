import type { SessionDescription } from './io-spec.js';
import type { ProviderAttempt, SessionCreateOptions } from './ort-session.js';
import type { ProgramCall, ProgramHost, ProgramStats } from './program.js';
import type { WireFeeds } from './wire-tensor.js';

export type InferenceMode = 'in-process' | 'worker';

export interface RunOptions {
  /** Checked before the call; an abort while a worker runs rejects at once (the result is dropped). */
  readonly signal?: AbortSignal;
  /** Only these outputs (default: all). */
  readonly outputs?: readonly string[];
  /** Told how long onnxruntime's session.run took, measured on the thread that ran it (the bench's Σ). */
  readonly onRunMs?: (ms: number) => void;
}

/**
 * How a program reaches a session: the backend holding it and its key there, with the hooks of the layers that
 * wrap run() (observers, error naming, call counts), so that calls made inside a program pass through them too.
 */
export interface ProgramLink {
  readonly host: ProgramHost;
  readonly key: number;
  /** Whether the program should report this session's calls with a copy of their feeds. */
  readonly wantsFeeds: () => boolean;
  /** Told of each call a program made (after it ran). */
  readonly onCall: (call: ProgramCall) => void;
  /** The error a failed call inside a program becomes (as run() would have thrown it). */
  readonly onFailure: (error: Error) => Error;
  /** Whether a program calling this session (as its first role) should measure what it costs its thread. */
  readonly wantsStats: () => boolean;
  readonly onStats: (stats: ProgramStats) => void;
}

/** An open ONNX session, wherever it lives. Obtain through a SessionPool; the pool owns its lifetime. */
export interface ModelSession extends SessionDescription {
  readonly path: string;
  readonly provider: string;
  readonly attempts: readonly ProviderAttempt[];
  readonly mode: InferenceMode;
  /** True when run() transfers (detaches) the feeds' buffers: callers must not pass data they keep. */
  readonly transfersInputs: boolean;
  run(feeds: WireFeeds, options?: RunOptions): Promise<WireFeeds>;
  /** Present when the session's backend can run programs (see program.ts). */
  readonly link?: ProgramLink;
  release(): Promise<void>;
}

/** Where sessions are opened: this thread, or a worker thread that keeps the event loop free. */
export interface SessionBackend {
  readonly mode: InferenceMode;
  open(path: string, options: SessionCreateOptions): Promise<ModelSession>;
  close(): Promise<void>;
}
