import { Worker } from 'node:worker_threads';

import type {
  ProgramStats,
  SessionCreateOptions,
  SessionRunObserver,
  WireFeeds,
  WireTensor,
} from '@diffedit/nodes';

import { round3, summarize } from './stats.js';

/** One recorded session.run: the model file, a private copy of its feeds, the outputs asked for. */
export interface RecordedCall {
  path: string;
  feeds: WireFeeds;
  outputs: readonly string[] | undefined;
}

/**
 * A SessionRunObserver for the bench: sums onnxruntime's own session.run time (measured on the thread that ran
 * it, the worker in the product's mode) and, while `recording`, keeps a copy of every call's feeds for replay.
 */
export class ModelCallRecorder implements SessionRunObserver {
  recording = false;
  calls: RecordedCall[] = [];
  runMs = 0;
  runCount = 0;
  /** each session.run's time, in call order (so that calls can be compared one by one with a replay) */
  callMs: number[] = [];
  /** CPU of the thread that ran the loop programs (the model worker's) */
  programThreadCpuMs = 0;
  /** wall of the loop programs, from their start on their thread to their end there */
  programWallMs = 0;

  beforeRun(path: string, feeds: WireFeeds, outputs: readonly string[] | undefined): void {
    if (!this.recording) return;
    const copy: Record<string, WireTensor> = {};
    for (const [name, t] of Object.entries(feeds)) copy[name] = { ...t, data: t.data.slice() };
    this.calls.push({ path, feeds: copy, outputs });
  }

  /** Program calls (loops run in the model worker) copy their feeds only while recording. */
  wantsFeeds(): boolean {
    return this.recording;
  }

  afterRun(_path: string, ms: number): void {
    this.runMs += ms;
    this.runCount++;
    this.callMs.push(ms);
  }

  afterProgram(_path: string, stats: ProgramStats): void {
    this.programThreadCpuMs += stats.threadCpuMs;
    this.programWallMs += stats.wallMs;
  }

  /** Starts a fresh tally (and recording when asked). */
  reset(record: boolean): void {
    this.recording = record;
    this.calls = [];
    this.runMs = 0;
    this.runCount = 0;
    this.callMs = [];
    this.programThreadCpuMs = 0;
    this.programWallMs = 0;
  }
}

/** One replay of every recorded call: Σ session.run and each call's time, in call order. */
export interface ReplayPass {
  ms: number;
  callMs: number[];
}

/** A minimal replay of recorded calls: `pass()` runs them all once. */
export interface Replay {
  pass(): Promise<ReplayPass>;
  close(): Promise<void>;
}

/** The replay's worker script, compiled to dist/ (from the sources under vitest too: src/ and dist/ sit alike). */
const REPLAY_WORKER = new URL('../../dist/bench/replay-worker.js', import.meta.url);

/**
 * The floor a runtime is measured against: the same session.run calls, replayed by a minimal loop (sessions
 * opened directly with the options the runtime's model manager opens its own with, feeds prepared before the
 * clock starts, nothing else in between) in a worker thread of its own (replay-worker.ts). An isolate with
 * nothing else in it, like a minimal script's process: neither the bench's main thread (its timers, the
 * runtime's garbage and collections) nor the replay's own garbage (every call's outputs, ~3 MB a pass on the
 * main isolate when it ran there) lands in the other's figures. One untimed pass warms the sessions first.
 */
export async function openReplay(
  calls: readonly RecordedCall[],
  options: SessionCreateOptions,
): Promise<Replay> {
  const worker = new Worker(REPLAY_WORKER, { workerData: { calls, options } });
  // the worker's next message; its error, or its exit before it answers, rejects (a replay never hangs)
  const reply = (): Promise<{ callMs?: number[] }> =>
    new Promise((resolve, reject) => {
      const settle = (): void => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        worker.off('message', onMessage);
      };
      const onError = (error: Error): void => {
        settle();
        reject(error);
      };
      const onExit = (code: number): void => {
        settle();
        reject(new Error(`the replay worker exited (code ${code}) before it answered`));
      };
      const onMessage = (message: { callMs?: number[] }): void => {
        settle();
        resolve(message);
      };
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.on('message', onMessage);
    });
  try {
    await reply();
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  const pass = async (): Promise<ReplayPass> => {
    const done = reply();
    worker.postMessage('pass');
    const callMs = (await done).callMs ?? [];
    return { ms: callMs.reduce((sum, ms) => sum + ms, 0), callMs };
  };
  const close = async (): Promise<void> => {
    const done = reply();
    worker.postMessage('close');
    await done;
    await worker.terminate();
  };
  return { pass, close };
}

/** The model component of a session file (…/unet/model.onnx → unet). */
function componentOf(path: string): string {
  return path.split(/[\\/]/).at(-2) ?? path;
}

/** Session calls per model component, by file name (…/unet/model.onnx → unet). */
export function callsByComponent(calls: readonly RecordedCall[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) {
    const component = componentOf(c.path);
    out[component] = (out[component] ?? 0) + 1;
  }
  return out;
}

/** A call's component and the shape of its first input: `unet 2×4×32×32` (calls alike in cost share it). */
export function callShape(call: RecordedCall): string {
  const first = Object.values(call.feeds)[0];
  return `${componentOf(call.path)} ${first === undefined ? '()' : first.dims.join('×')}`;
}

/** Σ session.run of one kind of call, inside the workflow and in the replay (medians over the repetitions). */
export interface CallShapeTimes {
  calls: number;
  inRunMedianMs: number;
  replayMedianMs: number;
  /** inRunMedianMs ÷ replayMedianMs: above 1, onnxruntime took longer inside the workflow than alone */
  ratio: number;
}

/**
 * Where the in-run and replayed session.run times differ, by call shape: each repetition's per-call times (in
 * call order, as `calls`) summed by shape, then the median over the repetitions.
 */
export function sessionRunByCallShape(
  calls: readonly RecordedCall[],
  inRun: readonly (readonly number[])[],
  replay: readonly (readonly number[])[],
): Record<string, CallShapeTimes> {
  const shapes = calls.map(callShape);
  const sums = (perCall: readonly number[]): Map<string, number> => {
    if (perCall.length !== calls.length) {
      throw new RangeError(`${perCall.length} call times for ${calls.length} recorded calls`);
    }
    const out = new Map<string, number>();
    perCall.forEach((ms, i) => out.set(shapes[i], (out.get(shapes[i]) ?? 0) + ms));
    return out;
  };
  const inRunSums = inRun.map(sums);
  const replaySums = replay.map(sums);
  const result: Record<string, CallShapeTimes> = {};
  for (const shape of new Set(shapes)) {
    const a = summarize(inRunSums.map((m) => m.get(shape) ?? 0)).median;
    const b = summarize(replaySums.map((m) => m.get(shape) ?? 0)).median;
    result[shape] = {
      calls: shapes.filter((s) => s === shape).length,
      inRunMedianMs: a,
      replayMedianMs: b,
      ratio: b > 0 ? round3(a / b) : 0,
    };
  }
  return result;
}
