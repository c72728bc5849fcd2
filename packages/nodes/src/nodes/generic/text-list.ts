import { defineNode } from '@diffedit/core';

export const TextListNode = defineNode({
  type: 'TextList',
  version: 1,
  title: 'Text list',
  category: 'text',
  description: 'One text per line, e.g. several source or target prompts.',
  inputs: {},
  params: {
    text: { kind: 'text', default: '', description: 'One item per line.' },
    skipEmpty: { kind: 'bool', default: true, description: 'Drop blank lines.' },
    trim: { kind: 'bool', default: true, description: 'Remove spaces around each line.' },
  },
  outputs: { list: { type: 'TEXT_LIST' } },
  async run(_ctx, _inputs, params) {
    let lines = params.text.split(/\r?\n/);
    if (params.trim) lines = lines.map((line) => line.trim());
    if (params.skipEmpty) lines = lines.filter((line) => line.length > 0);
    return { list: lines };
  },
});
