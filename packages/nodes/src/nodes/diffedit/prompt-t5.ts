import { defineNode, NodeInputError } from '@diffedit/core';

import { T5_SAMPLING_DEFAULTS } from '../../models/t5-model.js';

/** The seed's instruction; feed it from a TextTemplate with {concept} → {a}. */
export const T5_CAPTION_INSTRUCTION =
  'Provide a caption for images containing a {a}. The captions should be in English and should be no longer than 150 characters.';

export const PromptT5Node = defineNode({
  type: 'PromptT5',
  version: 1,
  title: 'Prompts from Flan-T5',
  category: 'diffedit',
  description:
    'Asks Flan-T5 for captions following an instruction (e.g. from a TextTemplate: "Provide a caption for ' +
    'images containing a {a}. …"). Sampling (do_sample) returns num_return_sequences captions; greedy returns one.',
  inputs: { model: { type: 'T5_MODEL' }, instruction: { type: 'TEXT' } },
  params: {
    do_sample: { kind: 'bool', default: true },
    temperature: {
      kind: 'number',
      default: T5_SAMPLING_DEFAULTS.temperature,
      min: 0.01,
      max: 10,
      step: 0.05,
    },
    top_k: { kind: 'int', default: T5_SAMPLING_DEFAULTS.topK, min: 0, max: 1000 },
    num_return_sequences: { kind: 'int', default: T5_SAMPLING_DEFAULTS.numReturnSequences, min: 1, max: 256 },
    max_new_tokens: { kind: 'int', default: T5_SAMPLING_DEFAULTS.maxNewTokens, min: 1, max: 512 },
    seed: { kind: 'seed', default: 0 },
  },
  outputs: { prompts: { type: 'TEXT_LIST' } },
  async run(ctx, inputs, params) {
    if (inputs.instruction.trim() === '')
      throw new NodeInputError('instruction', 'PromptT5: the instruction is empty');
    const prompts = await inputs.model.generate(inputs.instruction, {
      doSample: params.do_sample,
      temperature: params.temperature,
      topK: params.top_k,
      numReturnSequences: params.do_sample ? params.num_return_sequences : 1,
      maxNewTokens: params.max_new_tokens,
      seed: params.seed,
      signal: ctx.signal,
      onStep: (step, max) => ctx.progress(step, max),
    });
    ctx.log.info(`${prompts.length} prompts, e.g. "${prompts[0] ?? ''}"`);
    return { prompts };
  },
});
