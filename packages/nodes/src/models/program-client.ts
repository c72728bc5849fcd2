import { ModelError } from './model-errors.js';
import type { ModelSession, ProgramLink } from './model-session.js';
import { ProgramSessionFailure } from './program.js';
import type { ProgramCall, ProgramRef } from './program.js';

export interface ProgramInvocation<I> {
  /** The sessions the program calls, by the roles it names them with (all from one backend). */
  readonly sessions: Readonly<Record<string, ModelSession>>;
  readonly input: I;
  /** Buffers of `input` made for this call and not used afterwards: a worker takes them instead of copies. */
  readonly transfer?: readonly ArrayBuffer[];
  readonly signal?: AbortSignal;
  /** The program's events, in order. */
  readonly onEvent?: (event: unknown) => void;
}

/** Whether every session can take part in a program (their backend runs programs, all the same backend). */
export function canRunProgram(sessions: Readonly<Record<string, ModelSession>>): boolean {
  const links = Object.values(sessions).map((s) => s.link);
  return links.length > 0 && links.every((l) => l !== undefined && l.host === links[0]?.host);
}

/**
 * Runs `program` where `sessions` live. Each session call inside it reaches the layers wrapping those sessions
 * (observers, counts) as its link says, and a failed call becomes the error the session's run() would throw.
 */
export async function runProgram<I, O>(ref: ProgramRef<I, O>, invocation: ProgramInvocation<I>): Promise<O> {
  const links: Record<string, ProgramLink> = {};
  const keys: Record<string, number> = {};
  for (const [role, session] of Object.entries(invocation.sessions)) {
    if (session.link === undefined) {
      throw new ModelError(
        'model_worker_failed',
        session.path,
        undefined,
        'this session cannot run programs',
      );
    }
    links[role] = session.link;
    keys[role] = session.link.key;
  }
  if (!canRunProgram(invocation.sessions))
    throw new Error(`program ${ref.name}: sessions of several backends`);
  const first = Object.values(links)[0];
  const host = first.host;
  const onCalls = (calls: readonly ProgramCall[]): void => {
    for (const call of calls) links[call.role]?.onCall(call);
  };
  try {
    const value = await host.runProgram({
      module: ref.module,
      name: ref.name,
      sessions: keys,
      input: invocation.input,
      transfer: invocation.transfer ?? [],
      recordFeeds: Object.keys(links).filter((role) => links[role].wantsFeeds()),
      ...(invocation.signal === undefined ? {} : { signal: invocation.signal }),
      ...(invocation.onEvent === undefined ? {} : { onEvent: invocation.onEvent }),
      onCalls,
      ...(first.wantsStats() ? { onStats: first.onStats } : {}),
    });
    return value as O;
  } catch (error) {
    if (error instanceof ProgramSessionFailure && links[error.role] !== undefined) {
      throw links[error.role].onFailure(Object.assign(new Error(error.message), { name: error.causeName }));
    }
    throw error;
  }
}

/** `session` with its program calls also told to `onCall` (e.g. a count). */
export function observingProgramCalls(
  session: ModelSession,
  onCall: (call: ProgramCall) => void,
): ModelSession {
  const link = session.link;
  if (link === undefined) return session;
  return {
    ...session,
    link: {
      ...link,
      onCall: (call) => {
        onCall(call);
        link.onCall(call);
      },
    },
  };
}
