import { defineNode, NodeInputError } from '@diffedit/core';

import { decodeImage, fitMaskTo, ImageDecodeError, rgbImageToBinaryMask } from '../../imaging/index.js';
import { maskBatchFromGrey } from './image-values.js';
import { resolveInputFile } from './input-files.js';

export const LoadMaskNode = defineNode({
  type: 'LoadMask',
  version: 1,
  title: 'Load mask',
  category: 'image',
  description:
    'A painted mask instead of GenerateMask: white (≥ 50 % grey) = repaint, black = keep. Give the latent size ' +
    '(image size / 8) to match MaskedDenoise directly; other sizes are resized (nearest) there anyway.',
  inputs: {},
  params: {
    mask: { kind: 'file', default: '', extensions: ['.png', '.jpg', '.jpeg', '.webp'], label: 'Mask file' },
    width: { kind: 'int', default: 0, min: 0, max: 4096, description: 'Mask width; 0 keeps the file width.' },
    height: {
      kind: 'int',
      default: 0,
      min: 0,
      max: 4096,
      description: 'Mask height; 0 keeps the file height.',
    },
  },
  outputs: { mask: { type: 'MASK' } },
  async run(ctx, _inputs, params) {
    if (params.mask.trim() === '')
      throw new NodeInputError('mask', 'LoadMask: no mask file chosen (param mask)');
    const path = resolveInputFile(ctx, params.mask);
    try {
      // decoded at full size (multiple 1), then fitted with nearest so painted edges stay hard
      const rgb = await decodeImage(path, { multiple: 1 });
      const binary = rgbImageToBinaryMask(rgb);
      const mask = fitMaskTo(binary, params.width || rgb.width, params.height || rgb.height);
      return { mask: maskBatchFromGrey([mask]) };
    } catch (err) {
      if (err instanceof ImageDecodeError) throw new NodeInputError('mask', `LoadMask: ${err.message}`);
      throw err;
    }
  },
});
