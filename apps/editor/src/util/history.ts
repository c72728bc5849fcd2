/**
 * Undo/redo stacks of snapshots. A change records the state *before* it; consecutive changes with the same
 * group (typing in one field, dragging one node) within `windowMs` of each other collapse into one undo step.
 */
export interface History<T> {
  past: T[];
  future: T[];
  lastGroup?: string;
  lastTime: number;
}

export const UNDO_LIMIT = 100;
export const GROUP_WINDOW_MS = 1000;

export function emptyHistory<T>(): History<T> {
  return { past: [], future: [], lastTime: -Infinity };
}

/** Records `before` as an undo step, unless it continues the previous change's group. */
export function record<T>(
  history: History<T>,
  before: T,
  group: string | undefined,
  now: number,
  windowMs = GROUP_WINDOW_MS,
): History<T> {
  const continues = group !== undefined && group === history.lastGroup && now - history.lastTime <= windowMs;
  const past = continues ? history.past : [...history.past, before].slice(-UNDO_LIMIT);
  return { past, future: [], lastGroup: group, lastTime: now };
}

/** Steps back: returns the state to show and the new history, or undefined when there is nothing to undo. */
export function undo<T>(history: History<T>, current: T): { state: T; history: History<T> } | undefined {
  if (history.past.length === 0) return undefined;
  const state = history.past[history.past.length - 1];
  return {
    state,
    history: { past: history.past.slice(0, -1), future: [current, ...history.future], lastTime: -Infinity },
  };
}

export function redo<T>(history: History<T>, current: T): { state: T; history: History<T> } | undefined {
  if (history.future.length === 0) return undefined;
  const [state, ...future] = history.future;
  return { state, history: { past: [...history.past, current], future, lastTime: -Infinity } };
}
