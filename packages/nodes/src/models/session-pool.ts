import { resolve, sep } from 'node:path';
import type { ModelSession, SessionBackend } from './model-session.js';
import type { SessionCreateOptions } from './ort-session.js';
import type { ProgramStats } from './program.js';
import type { WireFeeds } from './wire-tensor.js';

export type ModelLogger = (line: string) => void;

/**
 * Watches every session.run of a pool (the bench records the calls and sums onnxruntime's time with it).
 * `feeds` are the caller's, before the call: copy what you keep (the worker mode transfers their buffers).
 */
export interface SessionRunObserver {
  /**
   * Calls made inside a program (a loop run next to the sessions, see program.ts) reach beforeRun after they
   * ran, and only while wantsFeeds() says so (default: whenever beforeRun exists), with a copy of their feeds.
   */
  beforeRun?(path: string, feeds: WireFeeds, outputs: readonly string[] | undefined): void;
  afterRun?(path: string, ms: number): void;
  /** Whether beforeRun wants program calls' feeds now (copying them costs; the bench records only some runs). */
  wantsFeeds?(): boolean;
  /**
   * What each program that calls this session first cost the thread it ran on (the model worker's thread in
   * worker mode); asking for it makes the program read /proc when it starts and ends.
   */
  afterProgram?(path: string, stats: ProgramStats): void;
}

/**
 * Opens each ONNX file once per option set and hands out the same session until it is released.
 * Keyed by absolute path, backend mode and the creation options.
 */
export class SessionPool {
  private readonly sessions = new Map<string, { path: string; session: Promise<ModelSession> }>();
  /** Provider failure reasons already logged: a missing CUDA library is said once, not once per file. */
  private readonly reportedFailures = new Set<string>();

  constructor(
    private readonly backend: SessionBackend,
    private readonly options: SessionCreateOptions,
    private readonly log: ModelLogger = () => {},
    private readonly observer?: SessionRunObserver,
  ) {}

  get mode(): SessionBackend['mode'] {
    return this.backend.mode;
  }

  keyOf(path: string, options: SessionCreateOptions = this.options): string {
    return JSON.stringify([
      resolve(path),
      this.backend.mode,
      options.providers,
      options.intraOpNumThreads ?? null,
      options.allowSpinning ?? null,
    ]);
  }

  get(path: string, options: SessionCreateOptions = this.options): Promise<ModelSession> {
    const key = this.keyOf(path, options);
    const existing = this.sessions.get(key);
    if (existing !== undefined) return existing.session;
    const session = this.backend.open(resolve(path), options).then((s) => {
      const failed = s.attempts
        .filter((a) => !a.ok)
        .map((a) => {
          const line = `${a.provider} failed: ${a.error ?? ''}`;
          if (this.reportedFailures.has(line)) return `${a.provider} failed (as above)`;
          this.reportedFailures.add(line);
          return line;
        });
      this.log(
        `[models] ${s.path}: execution provider ${s.provider} (${s.mode})` +
          (failed.length > 0 ? `; ${failed.join('; ')}` : ''),
      );
      return this.observer === undefined ? s : observed(s, this.observer);
    });
    this.sessions.set(key, { path: resolve(path), session });
    // A failed open is not cached: the next call tries again (the user may have fixed the file).
    session.catch(() => {
      if (this.sessions.get(key)?.session === session) this.sessions.delete(key);
    });
    return session;
  }

  /** Sessions opened so far (settled ones only). */
  async openSessions(): Promise<ModelSession[]> {
    const settled = await Promise.allSettled([...this.sessions.values()].map((e) => e.session));
    return settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  /** Releases the sessions of files under `folder` (all when omitted); returns how many were released. */
  async release(folder?: string): Promise<number> {
    const root = folder === undefined ? undefined : resolve(folder);
    const doomed = [...this.sessions.entries()].filter(
      ([, e]) => root === undefined || e.path === root || e.path.startsWith(root + sep),
    );
    for (const [key] of doomed) this.sessions.delete(key);
    const results = await Promise.allSettled(doomed.map(([, e]) => e.session.then((s) => s.release())));
    return results.filter((r) => r.status === 'fulfilled').length;
  }

  async close(): Promise<void> {
    await this.release();
    await this.backend.close();
  }
}

function observed(session: ModelSession, observer: SessionRunObserver): ModelSession {
  const path = session.path;
  const link = session.link;
  const wantsFeeds = (): boolean => observer.beforeRun !== undefined && (observer.wantsFeeds?.() ?? true);
  return {
    ...session,
    ...(link === undefined
      ? {}
      : {
          link: {
            ...link,
            wantsFeeds: () => wantsFeeds() || link.wantsFeeds(),
            onCall: (call) => {
              if (call.feeds !== undefined) observer.beforeRun?.(path, call.feeds, call.outputs);
              observer.afterRun?.(path, call.ms);
              link.onCall(call);
            },
            wantsStats: () => observer.afterProgram !== undefined || link.wantsStats(),
            onStats: (stats) => {
              observer.afterProgram?.(path, stats);
              link.onStats(stats);
            },
          },
        }),
    run: (feeds, options) => {
      observer.beforeRun?.(path, feeds, options?.outputs);
      return session.run(feeds, {
        ...options,
        onRunMs: (ms) => {
          options?.onRunMs?.(ms);
          observer.afterRun?.(path, ms);
        },
      });
    },
  };
}
