import { defineNode } from '@diffedit/core';

export const NumberNode = defineNode({
  type: 'Number',
  version: 1,
  title: 'Number',
  category: 'primitives',
  description: 'A real number typed in the node.',
  inputs: {},
  params: { value: { kind: 'number', default: 0, step: 0.01, description: 'The number to output.' } },
  outputs: { value: { type: 'NUMBER' } },
  async run(_ctx, _inputs, params) {
    return { value: params.value };
  },
});

export const IntegerNode = defineNode({
  type: 'Integer',
  version: 1,
  title: 'Integer',
  category: 'primitives',
  description: 'A whole number typed in the node; it also fits NUMBER inputs.',
  inputs: {},
  params: { value: { kind: 'int', default: 0, step: 1, description: 'The integer to output.' } },
  outputs: { value: { type: 'INT' } },
  async run(_ctx, _inputs, params) {
    return { value: params.value };
  },
});
