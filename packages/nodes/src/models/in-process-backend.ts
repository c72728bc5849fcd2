import { abortError, sessionReleasedError, throwIfAborted } from './model-errors.js';
import type { ModelSession, RunOptions, SessionBackend } from './model-session.js';
import { openOrtSession, runOrtSession } from './ort-session.js';
import type { OpenedSession, SessionCreateOptions } from './ort-session.js';
import { hostProgram } from './program-host.js';
import type { HostedSession } from './program-host.js';
import type { HostProgramRequest, ProgramHost } from './program.js';
import type { WireFeeds } from './wire-tensor.js';

/** Runs sessions on the calling thread: simplest, but session.run blocks the event loop while it works. */
export class InProcessBackend implements SessionBackend, ProgramHost {
  readonly mode = 'in-process' as const;
  private readonly open_ = new Map<number, OpenedSession>();
  private nextKey = 1;

  async open(path: string, options: SessionCreateOptions): Promise<ModelSession> {
    const opened = await openOrtSession(path, options);
    const key = this.nextKey++;
    this.open_.set(key, opened);
    let released = false;
    return {
      path,
      provider: opened.provider,
      attempts: opened.attempts,
      inputs: opened.inputs,
      outputs: opened.outputs,
      mode: 'in-process',
      transfersInputs: false,
      link: {
        host: this,
        key,
        wantsFeeds: () => false,
        onCall: () => {},
        onFailure: (error) => error,
        wantsStats: () => false,
        onStats: () => {},
      },
      async run(feeds: WireFeeds, runOptions?: RunOptions): Promise<WireFeeds> {
        if (released) throw sessionReleasedError(path);
        throwIfAborted(runOptions?.signal);
        const start = performance.now();
        const out = await runOrtSession(opened.session, feeds, runOptions?.outputs);
        runOptions?.onRunMs?.(performance.now() - start);
        throwIfAborted(runOptions?.signal);
        return out;
      },
      release: async (): Promise<void> => {
        if (released) return;
        released = true;
        this.open_.delete(key);
        await opened.session.release();
      },
    };
  }

  /** Runs the program here, between this thread's other work (a session call blocks it, as run() does). */
  async runProgram(request: HostProgramRequest): Promise<unknown> {
    const sessions: Record<string, HostedSession> = {};
    for (const [role, key] of Object.entries(request.sessions)) {
      const opened = this.open_.get(key);
      if (opened === undefined) throw sessionReleasedError(`session ${key} (${role})`);
      sessions[role] = { session: opened.session, inputs: opened.inputs, outputs: opened.outputs };
    }
    const signal = request.signal ?? new AbortController().signal;
    throwIfAborted(signal);
    const { result, calls, stats } = await hostProgram({
      module: request.module,
      name: request.name,
      input: request.input,
      sessions,
      recordFeeds: request.recordFeeds,
      signal,
      cancelled: () => signal.aborted,
      cancelError: () => abortError(signal),
      emit: (event, made) => {
        request.onCalls(made);
        request.onEvent?.(event);
      },
      deliverCalls: (made) => request.onCalls(made),
      crossesThreads: false,
      measure: request.onStats !== undefined,
    });
    request.onCalls(calls);
    if (stats !== undefined) request.onStats?.(stats);
    return result.value;
  }

  async close(): Promise<void> {}
}
