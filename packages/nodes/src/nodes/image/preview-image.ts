import { defineNode } from '@diffedit/core';

import { encodePngWithText } from '../../pixels/index.js';
import { requireImage, rgbFromImageBatch } from './image-values.js';

export const PreviewImageNode = defineNode({
  type: 'PreviewImage',
  version: 1,
  title: 'Preview image',
  category: 'image',
  description:
    'Shows an image: the first image of the batch is sent as a progress preview, and every image is kept as ' +
    'a preview_<node>_<i>.png file (without embedded workflow).',
  inputs: { image: { type: 'IMAGE' } },
  params: {},
  outputs: {},
  output: true,
  async run(ctx, inputs) {
    const batch = requireImage(inputs.image, 'image');
    const count = batch.dims[0];
    for (let i = 0; i < count; i++) {
      const rgb = rgbFromImageBatch(batch, i);
      const bytes = await encodePngWithText(rgb);
      ctx.emitFile({ name: `preview_${ctx.nodeId}_${i}.png`, mime: 'image/png', bytes });
      ctx.progress(i + 1, count, { mime: 'image/png', bytes, width: rgb.width, height: rgb.height });
    }
    return {};
  },
});
