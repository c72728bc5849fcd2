import { defineNode } from '@diffedit/core';

export const TextNode = defineNode({
  type: 'Text',
  version: 1,
  title: 'Text',
  category: 'primitives',
  description: 'A piece of text typed in the node, e.g. a prompt.',
  inputs: {},
  params: { text: { kind: 'text', default: '', description: 'The text to output.' } },
  outputs: { text: { type: 'TEXT' } },
  async run(_ctx, _inputs, params) {
    return { text: params.text };
  },
});
