/**
 * Undo/redo stacks of snapshots. A change records the state *before* it; consecutive changes with the same
 * group (typing in one field, dragging one node) collapse into one undo step until the group is ended (the
 * field loses focus, the drag stops) or another change comes between. No clock is involved, so how fast
 * someone types never changes what one undo does.
 */
export interface History<T> {
  past: T[];
  future: T[];
  lastGroup?: string;
}

export const UNDO_LIMIT = 100;

export function emptyHistory<T>(): History<T> {
  return { past: [], future: [] };
}

/** Records `before` as an undo step, unless it continues the previous change's group. */
export function record<T>(history: History<T>, before: T, group: string | undefined): History<T> {
  const continues = group !== undefined && group === history.lastGroup;
  const past = continues ? history.past : [...history.past, before].slice(-UNDO_LIMIT);
  return { past, future: [], lastGroup: group };
}

/** Ends the current group: the next change is a new undo step even in the same field. */
export function endGroup<T>(history: History<T>): History<T> {
  return history.lastGroup === undefined ? history : { ...history, lastGroup: undefined };
}

/** Steps back: returns the state to show and the new history, or undefined when there is nothing to undo. */
export function undo<T>(history: History<T>, current: T): { state: T; history: History<T> } | undefined {
  if (history.past.length === 0) return undefined;
  return {
    state: history.past[history.past.length - 1],
    history: { past: history.past.slice(0, -1), future: [current, ...history.future] },
  };
}

export function redo<T>(history: History<T>, current: T): { state: T; history: History<T> } | undefined {
  if (history.future.length === 0) return undefined;
  const [state, ...future] = history.future;
  return { state, history: { past: [...history.past, current], future } };
}
