import { sessionReleasedError, throwIfAborted } from './model-errors.js';
import type { ModelSession, RunOptions, SessionBackend } from './model-session.js';
import { openOrtSession, runOrtSession } from './ort-session.js';
import type { SessionCreateOptions } from './ort-session.js';
import type { WireFeeds } from './wire-tensor.js';

/** Runs sessions on the calling thread: simplest, but session.run blocks the event loop while it works. */
export class InProcessBackend implements SessionBackend {
  readonly mode = 'in-process' as const;

  async open(path: string, options: SessionCreateOptions): Promise<ModelSession> {
    const opened = await openOrtSession(path, options);
    let released = false;
    return {
      path,
      provider: opened.provider,
      attempts: opened.attempts,
      inputs: opened.inputs,
      outputs: opened.outputs,
      mode: 'in-process',
      transfersInputs: false,
      async run(feeds: WireFeeds, runOptions?: RunOptions): Promise<WireFeeds> {
        if (released) throw sessionReleasedError(path);
        throwIfAborted(runOptions?.signal);
        const start = performance.now();
        const out = await runOrtSession(opened.session, feeds, runOptions?.outputs);
        runOptions?.onRunMs?.(performance.now() - start);
        throwIfAborted(runOptions?.signal);
        return out;
      },
      async release(): Promise<void> {
        if (released) return;
        released = true;
        await opened.session.release();
      },
    };
  }

  async close(): Promise<void> {}
}
