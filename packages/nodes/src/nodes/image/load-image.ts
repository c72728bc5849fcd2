import { defineNode, NodeInputError } from '@diffedit/core';

import { decodeImageBytes, ImageDecodeError, ImageTooLargeError } from '../../pixels/index.js';
import { imageBatchFromRgbBytes } from './image-values.js';
import { maxMegapixelsParam, pixelLimit, resolveInputFile } from './input-files.js';

const size = (label: string) =>
  ({
    kind: 'int',
    default: 0,
    min: 0,
    max: 4096,
    step: 8,
    label,
    description: `Target ${label.toLowerCase()} in pixels (floored to a multiple of 8); 0 keeps the file's.`,
  }) as const;

export const LoadImageNode = defineNode({
  type: 'LoadImage',
  version: 1,
  title: 'Load image',
  category: 'image',
  description:
    'Reads a PNG, JPEG or WebP image from the inputs folder (other formats are refused), converts ' +
    'RGBA/greyscale to RGB and resizes it (Lanczos) to a multiple of 8. The file content is part of the cache key.',
  inputs: {},
  params: {
    image: { kind: 'file', default: '', extensions: ['.png', '.jpg', '.jpeg', '.webp'], label: 'Image file' },
    width: size('Width'),
    height: size('Height'),
    max_megapixels: maxMegapixelsParam,
  },
  outputs: {
    image: { type: 'IMAGE' },
    width: { type: 'INT' },
    height: { type: 'INT' },
  },
  async run(ctx, _inputs, params) {
    if (params.image.trim() === '')
      throw new NodeInputError('image', 'LoadImage: no image chosen (param image is empty)');
    for (const field of ['width', 'height'] as const) {
      const size = params[field];
      if (size > 0 && size < 8) {
        throw new NodeInputError(
          field,
          `LoadImage: ${field} ${size} is below 8 (0 keeps the file's ${field})`,
        );
      }
    }
    const path = resolveInputFile(ctx, params.image);
    try {
      const rgb = await decodeImageBytes(path, {
        width: params.width,
        height: params.height,
        maxPixels: pixelLimit(ctx, params.max_megapixels),
      });
      return {
        image: imageBatchFromRgbBytes(rgb.bytes, rgb.width, rgb.height),
        width: rgb.width,
        height: rgb.height,
      };
    } catch (err) {
      if (err instanceof ImageDecodeError || err instanceof ImageTooLargeError) {
        throw new NodeInputError('image', `LoadImage: ${err.message}`);
      }
      throw err;
    }
  },
});
