import { describe, expect, it } from 'vitest';

import { createExecutor, exactJsonText, ValidationMemo, validateWorkflow } from '@diffedit/core';
import type { RunEvent } from '@diffedit/core';

import { createTestCatalog, eventLog, workflow } from './fixtures.js';

const graph = (value: unknown = 1) =>
  workflow(
    [
      { id: 'x', type: 'Const', params: { value } },
      { id: 'sink', type: 'Sink' },
    ],
    ['x.value->sink.value'],
  );

const startKeys = (events: RunEvent[]): Record<string, string> =>
  (events.find((e) => e.type === 'run:start') as Extract<RunEvent, { type: 'run:start' }>).keys;

/** `memo.validate` with the real validator behind it, counting the validations it ran. */
function countingValidator(memo: ValidationMemo) {
  const { catalog } = createTestCatalog();
  const counter = { validations: 0 };
  const validate = (doc: unknown, targets?: string[]) =>
    memo.validate(doc, targets, () => {
      counter.validations++;
      return validateWorkflow(doc, catalog, { targets });
    });
  return { validate, counter };
}

describe('exactJsonText', () => {
  it('gives the JSON text of plain data only', () => {
    expect(exactJsonText({ a: [1, 'b', true, null, { c: 2.5 }] })).toBe('{"a":[1,"b",true,null,{"c":2.5}]}');
    expect(exactJsonText(Object.assign(Object.create(null) as object, { a: 1 }))).toBe('{"a":1}');
    // what JSON would write as something else
    for (const value of [NaN, Infinity, -0, undefined, () => 1, 1n, Symbol('s')]) {
      expect(exactJsonText({ a: value })).toBeUndefined();
      expect(exactJsonText([value])).toBeUndefined();
    }
    expect(exactJsonText(NaN)).toBeUndefined();
    expect(exactJsonText({ at: new Date(0) })).toBeUndefined();
    expect(exactJsonText({ m: new Map() })).toBeUndefined();
    // a hole in an array reads back as null
    expect(exactJsonText({ a: [1, , 3] })).toBeUndefined(); // eslint-disable-line no-sparse-arrays
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(exactJsonText(cycle)).toBeUndefined();
  });
});

describe('ValidationMemo', () => {
  it('reuses a valid result for the same text and targets, frozen, and validates anything else again', () => {
    const memo = new ValidationMemo();
    const { validate, counter } = countingValidator(memo);
    const first = validate(graph(1));
    expect(first.ok).toBe(true);
    // another object with the same text: the same result, which no run can change
    expect(validate(graph(1))).toBe(first);
    expect(counter.validations).toBe(1);
    if (!first.ok) throw new Error('invalid');
    expect(Object.isFrozen(first.workflow.nodes[0].params)).toBe(true);
    expect(() => {
      (first.workflow.nodes[0].params as Record<string, unknown>).value = 5;
    }).toThrow(TypeError);
    // other targets, other values, a value JSON cannot say exactly: validated again
    expect(validate(graph(1), ['sink']).ok).toBe(true);
    expect(counter.validations).toBe(2);
    expect(validate(graph(2)).ok).toBe(true);
    expect(counter.validations).toBe(3);
    expect(validate(graph(NaN)).ok).toBe(false);
    expect(validate(graph(NaN)).ok).toBe(false);
    expect(counter.validations).toBe(5);
    // an invalid result is not kept
    expect(validate(graph('x')).ok).toBe(false);
    expect(validate(graph('x')).ok).toBe(false);
    expect(counter.validations).toBe(7);
  });

  it('remembers the last few documents, so that alternating runs are not validated again', () => {
    const memo = new ValidationMemo(2);
    const { validate, counter } = countingValidator(memo);
    const a = validate(graph(1));
    const b = validate(graph(2));
    // a, b, a, b: each validated once, and each result still its own
    expect(validate(graph(1))).toBe(a);
    expect(validate(graph(2))).toBe(b);
    expect(counter.validations).toBe(2);
    if (!a.ok || !b.ok) throw new Error('invalid');
    expect(a.workflow.nodes[0].params.value).toBe(1);
    expect(b.workflow.nodes[0].params.value).toBe(2);
    // keys are kept per document
    let computed = 0;
    const compute = () => new Map([['x', `k${++computed}`]]);
    expect(memo.keys(a, {}, compute).get('x')).toBe('k1');
    expect(memo.keys(b, {}, compute).get('x')).toBe('k2');
    expect(memo.keys(a, {}, compute).get('x')).toBe('k1');
    expect(computed).toBe(2);
    // an invalid document does not push a valid one out
    expect(validate(graph('x')).ok).toBe(false);
    expect(validate(graph(1))).toBe(a);
    expect(counter.validations).toBe(3);
    // a third document pushes out the least recently used (b), not the one just used (a)
    validate(graph(3));
    expect(validate(graph(1))).toBe(a);
    expect(counter.validations).toBe(4);
    expect(validate(graph(2))).not.toBe(b);
    expect(counter.validations).toBe(5);
    // one it no longer holds is keyed every time
    memo.keys(b, {}, compute);
    memo.keys(b, {}, compute);
    expect(computed).toBe(4);
  });

  it('keeps older documents only within its character budget, and always the last one', () => {
    const long = (n: number) => ({ ...graph(1), name: 'v'.repeat(n) });
    const chars = (doc: unknown) => exactJsonText(doc)!.length;
    // room beside the last document for one more of these, not two
    const memo = new ValidationMemo(4, Math.floor(chars(long(100)) * 1.5));
    const { validate, counter } = countingValidator(memo);
    const a = validate(long(100));
    const b = validate(long(101));
    expect(validate(long(100))).toBe(a);
    expect(counter.validations).toBe(2);
    validate(long(102)); // b goes (least recently used): a and the new one fit
    expect(validate(long(100))).toBe(a);
    expect(counter.validations).toBe(3);
    expect(validate(long(101))).not.toBe(b);
    expect(counter.validations).toBe(4);
    // a document larger than the whole budget is still remembered while it is the last one
    const huge = validate(long(10_000));
    expect(validate(long(10_000))).toBe(huge);
    expect(counter.validations).toBe(5);
  });

  it('keys again when the fingerprints change, and copies the keys it keeps', () => {
    const { catalog } = createTestCatalog();
    const memo = new ValidationMemo();
    const doc = graph(1);
    const result = memo.validate(doc, undefined, () => validateWorkflow(doc, catalog));
    let computed = 0;
    const compute = () => {
      computed++;
      return new Map([['x', `k${computed}`]]);
    };
    const a = memo.keys(result, { x: { f: '1' } }, compute);
    a.set('x', 'changed');
    expect(memo.keys(result, { x: { f: '1' } }, compute).get('x')).toBe('k1');
    expect(memo.keys(result, { x: { f: '2' } }, compute).get('x')).toBe('k2');
    // a result the memo does not hold is keyed every time
    const other = validateWorkflow(doc, catalog);
    memo.keys(other, { x: { f: '2' } }, compute);
    expect(computed).toBe(3);
  });
});

describe('Executor with an unchanged document', () => {
  it('gives the same keys and cached results as validating it again; an edit in place is seen', async () => {
    const { catalog, runs } = createTestCatalog();
    const executor = createExecutor({ catalog });
    const doc = graph(3);
    const first = eventLog();
    expect((await executor.run(doc, { onEvent: first.onEvent })).status).toBe('done');
    const second = eventLog();
    const again = await executor.run(graph(3), { onEvent: second.onEvent });
    expect(again.status).toBe('done');
    expect(startKeys(second.events)).toEqual(startKeys(first.events));
    expect(second.ids('node:cached')).toEqual(['sink']);
    // the same object edited between runs: a new key for x and what follows, the new value out
    doc.nodes[0].params = { value: 4 };
    const third = eventLog();
    const edited = await executor.run(doc, { onEvent: third.onEvent });
    expect(third.ids('node:start')).toEqual(['x', 'sink']);
    expect(startKeys(third.events).x).not.toBe(startKeys(first.events).x);
    expect(edited.outputs.x.value).toBe(4);
    // and an edit that makes it invalid fails validation, as without the memo
    doc.nodes[0].params = { value: 5000 };
    expect((await executor.run(doc)).status).toBe('invalid');
    expect(runs.get('x')).toBe(2);
  });
});
