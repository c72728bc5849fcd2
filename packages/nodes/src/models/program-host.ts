// Runs a program on this thread with onnxruntime sessions: shared by the model worker and the in-process backend,
// so a program behaves the same in both. Generic: it knows programs only by module and name.
import type { InferenceSession } from 'onnxruntime-node';

import type { SessionDescription } from './io-spec.js';
import { errorMessage } from './model-errors.js';
import { float32Output, startOrtRun, toOrtFeeds, wireOutputs } from './ort-session.js';
import { lookupProgram, ProgramSessionFailure } from './program.js';
import type { ProgramCall, ProgramContext, ProgramResult, ProgramStats } from './program.js';
import { threadCpuMs } from './thread-cpu.js';
import type { WireFeeds, WireTensor } from './wire-tensor.js';

type OrtFeeds = Parameters<InferenceSession['run']>[0];

export interface HostedSession extends SessionDescription {
  readonly session: InferenceSession;
}

export interface HostedProgram {
  readonly module: string;
  readonly name: string;
  readonly input: unknown;
  readonly sessions: Readonly<Record<string, HostedSession>>;
  readonly recordFeeds: readonly string[];
  /** Aborted when the caller cancels; `cancelled` is read between steps (it may know sooner than the signal). */
  readonly signal: AbortSignal;
  readonly cancelled: () => boolean;
  readonly cancelError: () => Error;
  /** Delivers an event with the calls made since the last delivery. */
  readonly emit: (event: unknown, calls: ProgramCall[], transfer: readonly ArrayBuffer[]) => void;
  /** Delivers the calls a failed program made since the last delivery (before its error is reported). */
  readonly deliverCalls: (calls: ProgramCall[]) => void;
  /**
   * The caller is on another thread (the model worker's host): events are coalesced (eventIntervalMs) and
   * sharedFloat32 allocates shared memory; on the caller's thread events are plain calls.
   */
  readonly crossesThreads: boolean;
  /** Measure the thread's CPU when the program starts and ends (for the bench, not for production). */
  readonly measure: boolean;
}

/**
 * Least time between two skippable program events (progress without a preview) sent to another thread: each is
 * a message (~45 µs of the loop's thread in a run), a cold main-thread wake-up (~200 µs of its CPU, measured on
 * the bench UNet) and, on a machine whose cores onnxruntime keeps busy, a preemption of onnxruntime or of the
 * loop's thread. Four a second is enough for a progress bar; previews (every 400 ms) come with events of their
 * own, and the last step is always reported.
 */
const CROSS_THREAD_EVENT_INTERVAL_MS = 250;

/** Runs the program; resolves with its result and the calls not yet delivered. */
export async function hostProgram(
  hosted: HostedProgram,
): Promise<{ result: ProgramResult<unknown>; calls: ProgramCall[]; stats?: ProgramStats }> {
  const program = await lookupProgram(hosted.module, hosted.name);
  const cpu = hosted.measure ? threadCpuMs : (): undefined => undefined;
  const wallStart = performance.now();
  const cpuStart = cpu();
  let calls: ProgramCall[] = [];
  const record = new Set(hosted.recordFeeds);
  const throwIfCancelled = (): void => {
    if (hosted.cancelled()) throw hosted.cancelError();
  };
  const descriptions: Record<string, SessionDescription> = {};
  for (const [role, s] of Object.entries(hosted.sessions)) {
    descriptions[role] = { inputs: s.inputs, outputs: s.outputs };
  }
  /**
   * One session call as the caller's observers see it: cancellation first, timed, recorded, failures named.
   * `results` turns onnxruntime's outputs into what the program gets, with onnxruntime's promise awaited
   * here directly (no async layer between).
   */
  const observed = async <T>(
    role: string,
    feeds: WireFeeds,
    outputs: readonly string[] | undefined,
    start: (session: InferenceSession) => Promise<InferenceSession.ReturnType>,
    results: (out: InferenceSession.ReturnType) => T,
  ): Promise<T> => {
    const hostedSession = hosted.sessions[role];
    if (hostedSession === undefined) throw new Error(`program ${hosted.name}: no session in role ${role}`);
    throwIfCancelled();
    const copy = record.has(role) ? copyFeeds(feeds) : undefined;
    const started = performance.now();
    let out: T;
    let ms: number;
    try {
      const ran = await start(hostedSession.session);
      ms = performance.now() - started;
      out = results(ran);
    } catch (error) {
      throw new ProgramSessionFailure(
        role,
        errorMessage(error),
        error instanceof Error ? error.name : 'Error',
      );
    }
    // fields added only when present (no spread of an empty object per call)
    const made: { -readonly [K in keyof ProgramCall]: ProgramCall[K] } = { role, ms };
    if (copy !== undefined) made.feeds = copy;
    if (outputs !== undefined) made.outputs = [...outputs];
    calls.push(made);
    return out;
  };
  const ctx: ProgramContext = {
    sessions: descriptions,
    signal: hosted.signal,
    eventIntervalMs: hosted.crossesThreads ? CROSS_THREAD_EVENT_INTERVAL_MS : 0,
    throwIfCancelled,
    sharedFloat32: (length) =>
      hosted.crossesThreads
        ? new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT))
        : new Float32Array(length),
    run: (role, feeds, outputs) =>
      observed(role, feeds, outputs, (session) => startOrtRun(session, feeds, outputs), wireOutputs),
    prepare: (feeds) => ({ wire: feeds, native: toOrtFeeds(feeds) }),
    runPrepared: (role, feeds, output) => {
      const names = [output];
      return observed(
        role,
        feeds.wire,
        names,
        (session) => session.run(feeds.native as OrtFeeds, names),
        (results) => float32Output(results, output),
      );
    },
    emit(event, transfer = []) {
      const delivered = calls;
      calls = [];
      hosted.emit(event, delivered, transfer);
    },
  };
  try {
    const result = await program(hosted.input, ctx);
    const cpuEnd = cpu();
    const stats =
      cpuStart === undefined || cpuEnd === undefined
        ? undefined
        : {
            name: hosted.name,
            wallMs: performance.now() - wallStart,
            threadCpuMs: cpuEnd - cpuStart,
          };
    return { result, calls, ...(stats === undefined ? {} : { stats }) };
  } catch (error) {
    if (calls.length > 0) hosted.deliverCalls(calls);
    calls = [];
    throw error;
  }
}

function copyFeeds(feeds: WireFeeds): WireFeeds {
  const out: Record<string, WireTensor> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = { ...t, data: t.data.slice() };
  return out;
}
