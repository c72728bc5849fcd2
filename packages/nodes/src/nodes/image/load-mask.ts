import { defineNode, NodeInputError } from '@diffedit/core';

import {
  binariseGrey,
  decodeAlpha,
  decodeImage,
  fitMaskTo,
  ImageDecodeError,
  ImageTooLargeError,
  rgbImageToBinaryMask,
} from '../../pixels/index.js';
import { maskBatchFromGrey } from './image-values.js';
import { maxMegapixelsParam, pixelLimit, resolveInputFile } from './input-files.js';

export const LoadMaskNode = defineNode({
  type: 'LoadMask',
  version: 1,
  title: 'Load mask',
  category: 'image',
  description:
    'A painted mask instead of GenerateMask: white (≥ 50 % grey) = repaint, black = keep — or, with channel, ' +
    'the alpha channel (ComfyUI’s mask editor erases what to repaint: transparency). Give the latent size ' +
    '(image size / 8) to match MaskedDenoise directly; other sizes are resized (nearest) there anyway.',
  inputs: {},
  params: {
    mask: { kind: 'file', default: '', extensions: ['.png', '.jpg', '.jpeg', '.webp'], label: 'Mask file' },
    channel: {
      kind: 'enum',
      options: ['luminance', 'alpha', 'transparency'],
      default: 'luminance',
      description:
        'luminance: white = repaint (diffusers, PIL convert("L")); alpha: opaque = repaint; transparency: ' +
        'transparent = repaint (ComfyUI’s mask editor).',
    },
    width: { kind: 'int', default: 0, min: 0, max: 4096, description: 'Mask width; 0 keeps the file width.' },
    height: {
      kind: 'int',
      default: 0,
      min: 0,
      max: 4096,
      description: 'Mask height; 0 keeps the file height.',
    },
    max_megapixels: maxMegapixelsParam,
  },
  outputs: { mask: { type: 'MASK' } },
  async run(ctx, _inputs, params) {
    if (params.mask.trim() === '')
      throw new NodeInputError('mask', 'LoadMask: no mask chosen (param mask is empty)');
    const path = resolveInputFile(ctx, params.mask);
    const maxPixels = pixelLimit(ctx, params.max_megapixels);
    try {
      // decoded at full size (multiple 1), then fitted with nearest so painted edges stay hard
      const binary =
        params.channel === 'luminance'
          ? rgbImageToBinaryMask(await decodeImage(path, { multiple: 1, maxPixels }))
          : binariseGrey(await decodeAlpha(path, path, maxPixels), params.channel === 'transparency');
      const mask = fitMaskTo(binary, params.width || binary.width, params.height || binary.height);
      return { mask: maskBatchFromGrey([mask]) };
    } catch (err) {
      if (err instanceof ImageDecodeError || err instanceof ImageTooLargeError) {
        throw new NodeInputError('mask', `LoadMask: ${err.message}`);
      }
      throw err;
    }
  },
});
