import { describe, expect, it } from 'vitest';

import { defineNode, NodeCatalog } from '@diffedit/core';
import type { ParamSpecs } from '@diffedit/core';

const node = (type: string, params: ParamSpecs = {}, inputs = {}) =>
  defineNode({
    type,
    version: 1,
    title: type,
    category: 'test',
    description: 'test node',
    inputs,
    params,
    outputs: {},
    async run() {
      return {};
    },
  });

describe('defineNode', () => {
  it('rejects bad type, socket and param names', () => {
    expect(() => node('1bad')).toThrow("invalid node type name '1bad'");
    expect(() => node('Ok', {}, { 'a b': { type: 'TEXT' } })).toThrow(
      "defineNode(Ok): invalid inputs name 'a b'",
    );
    expect(() => node('Ok', { 'x.y': { kind: 'string', default: '' } })).toThrow("invalid params name 'x.y'");
  });

  it('rejects a default the validator would reject, naming the node and param', () => {
    expect(() => node('N', { steps: { kind: 'int', default: 0, min: 1, max: 10 } })).toThrow(
      "defineNode(N): default of param 'steps' is invalid: 0 is below the minimum 1",
    );
    expect(() => node('N', { cfg: { kind: 'int', default: 7.5 } })).toThrow('expected an integer, got 7.5');
    expect(() => node('N', { mode: { kind: 'enum', options: ['a', 'b'], default: 'c' } })).toThrow(
      'default of param \'mode\' is invalid: expected one of "a", "b"',
    );
    expect(() => node('N', { seed: { kind: 'seed', default: -1 } })).toThrow('below the minimum 0');
    expect(node('N', { steps: { kind: 'int', default: 1, min: 1, max: 10 } }).params.steps.default).toBe(1);
  });
});

describe('NodeCatalog', () => {
  it('refuses two definitions of one type', () => {
    expect(() => new NodeCatalog([node('Twice'), node('Twice')])).toThrow(
      "node type 'Twice' is already registered",
    );
  });
});
