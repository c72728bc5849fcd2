import { resolve } from 'node:path';

import { InputsFolderKey, serviceKey } from '@diffedit/core';
import type { NodeContext } from '@diffedit/core';

import { DEFAULT_MAX_PIXELS, MEGAPIXEL } from '../../pixels/index.js';

/** Resolves a file param with the runtime's inputs folder, or against the working directory without one. */
export function resolveInputFile(ctx: NodeContext, name: string): string {
  const folder = ctx.services.tryGet(InputsFolderKey);
  return folder ? folder.resolve(name) : resolve(name);
}

/** The runtime's cap on the pixels of an image file (runtime option maxPixels); LoadImage's param may lower it. */
export const ImageLimitsKey = serviceKey<{ readonly maxPixels: number }>('image-limits');

/** The pixel limit for a load: the node's max_megapixels, within the runtime's cap. */
export function pixelLimit(ctx: NodeContext, maxMegapixels: number): number {
  const cap = ctx.services.tryGet(ImageLimitsKey)?.maxPixels ?? DEFAULT_MAX_PIXELS;
  return Math.min(cap, Math.floor(maxMegapixels * MEGAPIXEL));
}

/** The max_megapixels param of the nodes that read image files. */
export const maxMegapixelsParam = {
  kind: 'number',
  default: 16,
  min: 1,
  max: 256,
  label: 'Pixel limit (MP)',
  description:
    'Refuse files with more pixels than this (1 MP = 1024 × 1024), checked from the header before decoding; ' +
    "the runtime's maxPixels caps it (default 16 MP).",
} as const;
