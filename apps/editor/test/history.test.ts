import { describe, expect, it } from 'vitest';

import { emptyHistory, record, redo, undo } from '../src/util/history.js';

describe('undo history', () => {
  it('groups consecutive changes of one field within the window into one step', () => {
    let h = emptyHistory<string>();
    // Typing "abc" into one field: the states before each keystroke are '', 'a', 'ab'.
    h = record(h, '', 'param:t.text', 1000);
    h = record(h, 'a', 'param:t.text', 1200);
    h = record(h, 'ab', 'param:t.text', 1400);
    expect(h.past).toEqual(['']);
    const step = undo(h, 'abc')!;
    expect(step.state).toBe('');
    expect(redo(step.history, '')!.state).toBe('abc');
  });

  it('starts a new step after a pause, for another field, or for an ungrouped change', () => {
    let h = emptyHistory<number>();
    h = record(h, 0, 'param:a.x', 0);
    h = record(h, 1, 'param:a.x', 5000);
    h = record(h, 2, 'param:a.y', 5100);
    h = record(h, 3, undefined, 5200);
    h = record(h, 4, undefined, 5300);
    expect(h.past).toEqual([0, 1, 2, 3, 4]);
  });

  it('undo then redo walks back and forth, and a new change drops the redo stack', () => {
    let h = emptyHistory<number>();
    h = record(h, 1, undefined, 0);
    h = record(h, 2, undefined, 1);
    let current = 3;
    const u1 = undo(h, current)!;
    current = u1.state;
    expect(current).toBe(2);
    const u2 = undo(u1.history, current)!;
    expect(u2.state).toBe(1);
    expect(undo(u2.history, 1)).toBeUndefined();
    const r = redo(u2.history, 1)!;
    expect(r.state).toBe(2);
    const after = record(r.history, 2, undefined, 10);
    expect(after.future).toEqual([]);
    expect(redo(after, 5)).toBeUndefined();
  });

  it('a change right after an undo is its own step even in the same group', () => {
    let h = emptyHistory<string>();
    h = record(h, '', 'g', 0);
    const u = undo(h, 'a')!;
    h = record(u.history, '', 'g', 10);
    expect(h.past).toEqual(['']);
  });
});
