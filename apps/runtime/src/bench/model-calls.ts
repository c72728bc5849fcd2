import { performance } from 'node:perf_hooks';

import { defaultIntraOpThreads, openOrtSession, toOrtFeeds } from '@diffedit/nodes';
import type { ProgramStats, SessionRunObserver, WireFeeds, WireTensor } from '@diffedit/nodes';

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
  /** CPU of the thread that ran the loop programs (the model worker's), in total and outside session.run */
  programThreadCpuMs = 0;
  programThreadCpuOutsideRunMs = 0;

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
  }

  afterProgram(_path: string, stats: ProgramStats): void {
    this.programThreadCpuMs += stats.threadCpuMs;
    this.programThreadCpuOutsideRunMs += stats.threadCpuMs - stats.inRunThreadCpuMs;
  }

  /** Starts a fresh tally (and recording when asked). */
  reset(record: boolean): void {
    this.recording = record;
    this.calls = [];
    this.runMs = 0;
    this.runCount = 0;
    this.programThreadCpuMs = 0;
    this.programThreadCpuOutsideRunMs = 0;
  }
}

/** Session options the runtime uses by default (cpu unless told otherwise), so the replay matches them. */
export interface ReplayOptions {
  providers: readonly string[];
  intraOpNumThreads?: number;
  allowSpinning?: boolean;
}

/** A minimal replay of recorded calls: `pass()` runs them all once and returns Σ session.run in ms. */
export interface Replay {
  pass(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The floor a runtime is measured against: the same session.run calls, replayed by a minimal loop (sessions
 * opened directly with the same options, feeds prepared before the clock starts, nothing else in between).
 * One untimed pass warms the sessions before this returns.
 */
export async function openReplay(calls: readonly RecordedCall[], options: ReplayOptions): Promise<Replay> {
  const paths = [...new Set(calls.map((c) => c.path))];
  const opened = await Promise.all(
    paths.map((path) =>
      openOrtSession(path, {
        providers: options.providers,
        intraOpNumThreads: options.intraOpNumThreads ?? defaultIntraOpThreads(),
        allowSpinning: options.allowSpinning ?? false,
      }),
    ),
  );
  const sessions = new Map(paths.map((path, i) => [path, opened[i].session]));
  const prepared = calls.map((c) => ({
    session: sessions.get(c.path)!,
    feeds: toOrtFeeds(c.feeds),
    outputs: c.outputs === undefined ? undefined : [...c.outputs],
  }));
  const pass = async (): Promise<number> => {
    let sum = 0;
    for (const call of prepared) {
      const start = performance.now();
      if (call.outputs === undefined) await call.session.run(call.feeds);
      else await call.session.run(call.feeds, call.outputs);
      sum += performance.now() - start;
    }
    return sum;
  };
  await pass();
  return { pass, close: async () => void (await Promise.all(opened.map((o) => o.session.release()))) };
}

/** Session calls per model component, by file name (…/unet/model.onnx → unet). */
export function callsByComponent(calls: readonly RecordedCall[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) {
    const component = c.path.split(/[\\/]/).at(-2) ?? c.path;
    out[component] = (out[component] ?? 0) + 1;
  }
  return out;
}
