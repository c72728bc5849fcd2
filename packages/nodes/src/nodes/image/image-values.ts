import { NodeInputError, Tensor } from '@diffedit/core';

import { createGreyImage, createRgbImage, type GreyImage, type RgbImage } from '../../pixels/index.js';

/**
 * IMAGE values are float32 tensors [B, 3, H, W] (NCHW, the VAE's layout) with values in [0, 1].
 * MASK values are float32 tensors [B, 1, h, w] with values in {0, 1}: 1 = repaint (white), 0 = keep.
 */
declare module '@diffedit/core' {
  interface SocketValueTypes {
    IMAGE: Tensor;
    MASK: Tensor;
  }
}

/** Checks that `value` is an IMAGE tensor and returns it; the error names the node's field. */
export function requireImage(value: unknown, field: string): Tensor {
  if (!(value instanceof Tensor) || value.rank !== 4 || value.dims[1] !== 3) {
    throw new NodeInputError(field, `${field} must be an IMAGE [B,3,H,W], got ${describeShape(value)}`);
  }
  return value;
}

/** Checks that `value` is a MASK tensor [B,1,h,w] (a [B,h,w] or [h,w] tensor is accepted and reshaped). */
export function requireMask(value: unknown, field: string): Tensor {
  if (value instanceof Tensor) {
    if (value.rank === 4 && value.dims[1] === 1) return value;
    if (value.rank === 3) return value.reshape([value.dims[0], 1, value.dims[1], value.dims[2]]);
    if (value.rank === 2) return value.reshape([1, 1, value.dims[0], value.dims[1]]);
  }
  throw new NodeInputError(field, `${field} must be a MASK [B,1,h,w], got ${describeShape(value)}`);
}

export function describeShape(value: unknown): string {
  if (value instanceof Tensor) return `a tensor [${value.dims.join(', ')}]`;
  if (value === undefined) return 'nothing';
  return typeof value;
}

/** Stacks same-sized RGB images into one IMAGE batch. */
export function imageBatchFromRgb(images: readonly RgbImage[]): Tensor {
  if (images.length === 0) throw new Error('imageBatchFromRgb: no images');
  const { width, height } = images[0];
  const plane = width * height;
  const out = new Tensor([images.length, 3, height, width]);
  images.forEach((image, b) => {
    if (image.width !== width || image.height !== height) {
      throw new Error(
        `imageBatchFromRgb: image ${b} is ${image.width}×${image.height}, expected ${width}×${height}`,
      );
    }
    const base = b * 3 * plane;
    for (let p = 0; p < plane; p++) {
      out.data[base + p] = image.data[p * 3];
      out.data[base + plane + p] = image.data[p * 3 + 1];
      out.data[base + 2 * plane + p] = image.data[p * 3 + 2];
    }
  });
  return out;
}

/** One image of an IMAGE batch as HWC RGB. */
export function rgbFromImageBatch(batch: Tensor, index = 0): RgbImage {
  const [, , height, width] = batch.dims;
  const plane = width * height;
  const base = index * 3 * plane;
  const image = createRgbImage(width, height);
  for (let p = 0; p < plane; p++) {
    image.data[p * 3] = batch.data[base + p];
    image.data[p * 3 + 1] = batch.data[base + plane + p];
    image.data[p * 3 + 2] = batch.data[base + 2 * plane + p];
  }
  return image;
}

/** Every image of an IMAGE batch as HWC RGB. */
export function rgbListFromImageBatch(batch: Tensor): RgbImage[] {
  return Array.from({ length: batch.dims[0] }, (_, b) => rgbFromImageBatch(batch, b));
}

/** One mask of a MASK batch as a grey image. */
export function greyFromMaskBatch(mask: Tensor, index = 0): GreyImage {
  const [, , height, width] = mask.dims;
  const plane = width * height;
  return createGreyImage(width, height, mask.data.slice(index * plane, (index + 1) * plane));
}

export function maskBatchFromGrey(masks: readonly GreyImage[]): Tensor {
  const { width, height } = masks[0];
  const out = new Tensor([masks.length, 1, height, width]);
  masks.forEach((m, b) => {
    if (m.width !== width || m.height !== height) throw new Error('maskBatchFromGrey: masks differ in size');
    out.data.set(m.data, b * width * height);
  });
  return out;
}
