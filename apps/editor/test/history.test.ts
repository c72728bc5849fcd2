import { describe, expect, it } from 'vitest';

import { emptyHistory, endGroup, record, redo, undo } from '../src/util/history.js';

describe('undo history', () => {
  it('groups consecutive changes of one field into one step', () => {
    let h = emptyHistory<string>();
    // Typing "abc" into one field: the states before each keystroke are '', 'a', 'ab'.
    h = record(h, '', 'param:t.text');
    h = record(h, 'a', 'param:t.text');
    h = record(h, 'ab', 'param:t.text');
    expect(h.past).toEqual(['']);
    const step = undo(h, 'abc')!;
    expect(step.state).toBe('');
    expect(redo(step.history, '')!.state).toBe('abc');
  });

  it('starts a new step when the group ends, for another field, or for an ungrouped change', () => {
    let h = emptyHistory<number>();
    h = record(h, 0, 'param:a.x');
    h = endGroup(h);
    h = record(h, 1, 'param:a.x');
    h = record(h, 2, 'param:a.y');
    h = record(h, 3, undefined);
    h = record(h, 4, undefined);
    h = record(h, 5, 'param:a.y');
    expect(h.past).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('undo then redo walks back and forth, and a new change drops the redo stack', () => {
    let h = emptyHistory<number>();
    h = record(h, 1, undefined);
    h = record(h, 2, undefined);
    const u1 = undo(h, 3)!;
    expect(u1.state).toBe(2);
    const u2 = undo(u1.history, 2)!;
    expect(u2.state).toBe(1);
    expect(undo(u2.history, 1)).toBeUndefined();
    const r = redo(u2.history, 1)!;
    expect(r.state).toBe(2);
    const after = record(r.history, 2, undefined);
    expect(after.future).toEqual([]);
    expect(redo(after, 5)).toBeUndefined();
  });

  it('a change right after an undo is its own step even in the same group', () => {
    let h = emptyHistory<string>();
    h = record(h, '', 'g');
    const u = undo(h, 'a')!;
    h = record(u.history, '', 'g');
    expect(h.past).toEqual(['']);
  });

  it('keeps at most 100 steps', () => {
    let h = emptyHistory<number>();
    for (let i = 0; i < 150; i++) h = record(h, i, undefined);
    expect(h.past.length).toBe(100);
    expect(h.past[0]).toBe(50);
  });
});
