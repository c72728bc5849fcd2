import { defineNode, NodeInputError } from '@diffedit/core';

import { BLIP_CAPTION_DEFAULTS } from '../../models/blip-model.js';
import { requireImage } from '../image/image-values.js';

export const CaptionBLIPNode = defineNode({
  type: 'CaptionBLIP',
  version: 1,
  title: 'Caption (BLIP)',
  category: 'diffedit',
  description:
    'Describes the image with BLIP (conditional captioning: the caption continues the prompt prefix), e.g. as ' +
    'the source prompt for DDIMInvert.',
  inputs: { model: { type: 'BLIP_MODEL' }, image: { type: 'IMAGE' } },
  params: {
    prompt: { kind: 'string', default: BLIP_CAPTION_DEFAULTS.prompt, description: 'Caption prefix.' },
    max_new_tokens: { kind: 'int', default: BLIP_CAPTION_DEFAULTS.maxNewTokens, min: 1, max: 512 },
  },
  outputs: { caption: { type: 'TEXT' } },
  async run(ctx, inputs, params) {
    const image = requireImage(inputs.image, 'image');
    if (image.dims[0] !== 1)
      throw new NodeInputError('image', `CaptionBLIP: image holds ${image.dims[0]} images; give one`);
    const caption = await inputs.model.caption(image, {
      prompt: params.prompt,
      maxNewTokens: params.max_new_tokens,
      signal: ctx.signal,
      onStep: (step, max) => ctx.progress(step, max),
    });
    ctx.log.info(`caption: ${caption}`);
    return { caption };
  },
});
