import { defineNode, NodeInputError, Tensor, toByteLevels } from '@diffedit/core';

import { resizePlaneNearest } from '../../pixels/index.js';
import { requireImage, requireMask } from './image-values.js';

export const MaskToImageNode = defineNode({
  type: 'MaskToImage',
  version: 1,
  title: 'Mask to image',
  category: 'image',
  description:
    'Shows a mask as a black/white image, upscaled (nearest) to the size of the optional reference image or by ' +
    'the scale factor (8 = image size for a latent-resolution mask).',
  inputs: {
    mask: { type: 'MASK' },
    like: { type: 'IMAGE', required: false, description: 'Upscale to this image’s size.' },
  },
  params: {
    scale: { kind: 'int', default: 8, min: 1, max: 64, description: 'Upscale factor without a reference.' },
  },
  outputs: { image: { type: 'IMAGE' } },
  async run(_ctx, inputs, params) {
    const mask = requireMask(inputs.mask, 'mask');
    const [, , h, w] = mask.dims;
    let width = w * params.scale;
    let height = h * params.scale;
    if (inputs.like !== undefined) {
      const like = requireImage(inputs.like, 'like');
      [height, width] = [like.dims[2], like.dims[3]];
    }
    if (width < 1 || height < 1) throw new NodeInputError('mask', 'MaskToImage: empty mask');
    const batch = mask.dims[0];
    const plane = width * height;
    // a 0/1 mask is made of 8-bit levels: the image as bytes, resized from the small mask's bytes (the floats
    // only if a consumer reads them)
    const maskLevels = toByteLevels(mask.data);
    if (maskLevels !== undefined) {
      const bytes = new Uint8Array(batch * 3 * plane);
      for (let b = 0; b < batch; b++) {
        const red = bytes.subarray(b * 3 * plane, (b * 3 + 1) * plane);
        resizePlaneNearest(maskLevels.subarray(b * h * w, (b + 1) * h * w), w, h, red, width, height);
        bytes.copyWithin((b * 3 + 1) * plane, b * 3 * plane, (b * 3 + 1) * plane);
        bytes.copyWithin((b * 3 + 2) * plane, b * 3 * plane, (b * 3 + 1) * plane);
      }
      return { image: Tensor.ofByteLevels([batch, 3, height, width], bytes) };
    }
    // straight into the IMAGE's planes: the same values as maskToRgbImage per mask, then imageBatchFromRgb
    const image = new Tensor([batch, 3, height, width]);
    for (let b = 0; b < batch; b++) {
      const red = image.data.subarray(b * 3 * plane, (b * 3 + 1) * plane);
      resizePlaneNearest(mask.data.subarray(b * h * w, (b + 1) * h * w), w, h, red, width, height);
      image.data.set(red, (b * 3 + 1) * plane);
      image.data.set(red, (b * 3 + 2) * plane);
    }
    return { image };
  },
});
