// Programs: loops that run next to the sessions they call (in the model worker, or on this thread with the
// in-process backend), so that a whole sampling loop is one request instead of one round trip per model call.
// The hosts know programs only by module and name; the programs themselves live with the nodes.
import type { SessionDescription } from './io-spec.js';
import type { WireFeeds } from './wire-tensor.js';

/** What a program is given: its sessions by role, and a channel back to its caller. */
export interface ProgramContext {
  readonly sessions: Readonly<Record<string, SessionDescription>>;
  /** Aborted when the caller cancels (seen at the next macrotask; throwIfCancelled sees it at once). */
  readonly signal: AbortSignal;
  /** One session.run of the session in `role`; the caller's observers see it. */
  run(role: string, feeds: WireFeeds, outputs?: readonly string[]): Promise<WireFeeds>;
  /**
   * For a loop that calls a session with the same feed objects again and again: the feeds converted once for
   * the host's runtime (their arrays are read at each call, so the loop may refill them between calls).
   */
  prepare(feeds: WireFeeds): PreparedFeeds;
  /**
   * `run` on prepared feeds, returning one output as float32 values: a sampling loop's step without the
   * conversions of its feeds and outputs (observers see the call as they see run's).
   */
  runPrepared(role: string, feeds: PreparedFeeds, output: string): Promise<PreparedOutput>;
  /**
   * Least time a program should leave between two events it could skip (progress without a preview): the
   * caller is on another thread, where each event costs a message and a wake-up; 0 on the caller's thread.
   */
  readonly eventIntervalMs: number;
  /** Sends `event` to the caller's onEvent (buffers in `transfer` move instead of being copied). */
  emit(event: unknown, transfer?: readonly ArrayBuffer[]): void;
  /** Throws the cancellation when the caller has cancelled; call it between steps. */
  throwIfCancelled(): void;
  /**
   * A zeroed float32 array for a result the caller keeps and may hand to later programs as input: in shared
   * memory when the caller is on another thread (it crosses both ways without a copy; the program must not
   * touch it once returned, and inputs are read only anyway), a plain array on the caller's thread.
   */
  sharedFloat32(length: number): Float32Array;
}

/** Feeds made ready by ProgramContext.prepare: the wire tensors, and the host's own form of them. */
export interface PreparedFeeds {
  readonly wire: WireFeeds;
  readonly native: unknown;
}

/** One output of runPrepared: its dims and values (the host's array: valid until the loop drops it). */
export interface PreparedOutput {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export interface ProgramResult<O> {
  readonly value: O;
  /** Buffers of `value` to move to the caller instead of copying them (ignored on the same thread). */
  readonly transfer?: readonly ArrayBuffer[];
}

export type ProgramFunction<I, O> = (input: I, ctx: ProgramContext) => Promise<ProgramResult<O>>;

/**
 * How a caller names a program: the module that registers it (a file URL the model worker can import)
 * and its name there. I and O type the input and the value; the wire carries structured-cloneable data.
 */
export interface ProgramRef<I, O> {
  readonly module: string;
  readonly name: string;
  /** phantom: the input and output types */
  readonly types?: (input: I) => O;
}

// A program's input and output cross the worker boundary by structured clone; the registry keeps them opaque.
type AnyProgram = ProgramFunction<never, unknown>;
const registry = new Map<string, AnyProgram>();

/** Registers `run` under `name` (in the module `module`); returns the reference callers use. */
export function defineProgram<I, O>(
  module: string,
  name: string,
  run: ProgramFunction<I, O>,
): ProgramRef<I, O> {
  registry.set(`${module}#${name}`, run as AnyProgram);
  return { module, name };
}

/** The registered program, importing its module first when this thread has not loaded it yet. */
export async function lookupProgram(
  module: string,
  name: string,
): Promise<ProgramFunction<unknown, unknown>> {
  const key = `${module}#${name}`;
  if (!registry.has(key)) await import(module);
  const run = registry.get(key);
  if (run === undefined) throw new Error(`program ${name} is not registered by ${module}`);
  return run as ProgramFunction<unknown, unknown>;
}

/** One session call made by a program, as the caller's observers see it. */
export interface ProgramCall {
  readonly role: string;
  readonly ms: number;
  /** a private copy of the feeds, when the session's observers asked for them */
  readonly feeds?: WireFeeds;
  readonly outputs?: readonly string[];
}

/** What a program cost the thread it ran on (Linux; measured only when asked: /proc is read when it starts and ends). */
export interface ProgramStats {
  readonly name: string;
  readonly wallMs: number;
  /** CPU time of the host thread during the program */
  readonly threadCpuMs: number;
}

/** A session call inside a program failed: the caller turns it into its own error for that session. */
export class ProgramSessionFailure extends Error {
  constructor(
    readonly role: string,
    message: string,
    readonly causeName: string,
  ) {
    super(message);
    this.name = 'ProgramSessionFailure';
  }
}

/** A request as a host receives it: sessions by role as the host's own keys. */
export interface HostProgramRequest {
  readonly module: string;
  readonly name: string;
  readonly sessions: Readonly<Record<string, number>>;
  readonly input: unknown;
  readonly transfer: readonly ArrayBuffer[];
  /** roles whose calls are reported with a copy of their feeds */
  readonly recordFeeds: readonly string[];
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: unknown) => void;
  /** the calls made so far, in order (reported before each event and before the result) */
  readonly onCalls: (calls: readonly ProgramCall[]) => void;
  /** Told what the program cost its thread, when it ends (measured only when given). */
  readonly onStats?: (stats: ProgramStats) => void;
}

/** A backend that can run programs next to the sessions it holds. */
export interface ProgramHost {
  runProgram(request: HostProgramRequest): Promise<unknown>;
}
