import { defineNode, NodeInputError } from '@diffedit/core';

import { promptEmbedding } from './prompt-embeddings.js';

export const EmbedPromptsNode = defineNode({
  type: 'EmbedPrompts',
  version: 1,
  title: 'Embed prompts',
  category: 'diffedit',
  description:
    'CLIP text-encoder embeddings (last_hidden_state) of a prompt or a list of prompts, averaged over the ' +
    'list → one EMBEDDING [1, 77, D], as the seed does with the Flan-T5 captions.',
  inputs: { model: { type: 'DIFFUSION_MODEL' }, prompts: { type: ['TEXT_LIST', 'TEXT'] } },
  params: {},
  outputs: { embedding: { type: 'EMBEDDING' } },
  async run(ctx, inputs) {
    const prompts = inputs.prompts;
    const list = typeof prompts === 'string' ? [prompts] : prompts;
    if (list.length === 0) throw new NodeInputError('prompts', 'EmbedPrompts: the prompt list is empty');
    const embedding = await promptEmbedding(inputs.model, list, {
      node: 'EmbedPrompts',
      field: 'prompts',
      signal: ctx.signal,
      warn: ctx.warn,
    });
    ctx.progress(1, 1);
    return { embedding };
  },
});
