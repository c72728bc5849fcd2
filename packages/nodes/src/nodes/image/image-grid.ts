import { defineNode, NodeInputError } from '@diffedit/core';
import type { Tensor } from '@diffedit/core';

import { makeImageGrid, resizeRgbLanczos, roundToByteLevels, type RgbImage } from '../../pixels/index.js';
import { imageBatchFromRgb, requireImage, rgbListFromImageBatch, tileImageBatches } from './image-values.js';

const slot = { type: 'IMAGE', required: false } as const;

export const ImageGridNode = defineNode({
  type: 'ImageGrid',
  version: 1,
  title: 'Image grid',
  category: 'image',
  description:
    'Tiles the images of inputs a, b, c, d… (every image of each batch, in order) into rows × cols cells of ' +
    'the first image’s size, like diffusers’ make_image_grid (8-bit levels, as PIL images hold). rows × cols must ' +
    'equal the number of images.',
  inputs: { a: slot, b: slot, c: slot, d: slot, e: slot, f: slot },
  params: {
    rows: { kind: 'int', default: 1, min: 1, max: 64 },
    cols: { kind: 'int', default: 3, min: 1, max: 64 },
  },
  outputs: { image: { type: 'IMAGE' } },
  async run(_ctx, inputs, params) {
    const batches: Tensor[] = [];
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f'] as const) {
      const value: Tensor | undefined = inputs[name];
      if (value !== undefined) batches.push(requireImage(value, name));
    }
    if (batches.length === 0) throw new NodeInputError('a', 'ImageGrid: connect at least one image');
    const count = batches.reduce((n, b) => n + b.dims[0], 0);
    if (count !== params.rows * params.cols) {
      throw new NodeInputError(
        'rows',
        `ImageGrid: ${params.rows}×${params.cols} = ${params.rows * params.cols} cells but ${count} images are connected`,
      );
    }
    const [, , height, width] = batches[0].dims;
    // an 8-bit display image, like make_image_grid's PIL grid: saved pixels are the same, and the output
    // cache keeps it as bytes
    if (batches.every((b) => b.dims[2] === height && b.dims[3] === width)) {
      return { image: tileImageBatches(batches, params.rows, params.cols, width, height) };
    }
    const images: RgbImage[] = batches.flatMap((b) => rgbListFromImageBatch(b));
    const cells = await Promise.all(images.map((im) => resizeRgbLanczos(im, width, height)));
    const grid = makeImageGrid(cells, params.rows, params.cols);
    roundToByteLevels(grid.data);
    return { image: imageBatchFromRgb([grid]) };
  },
});
