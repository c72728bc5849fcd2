import { defineNode } from '@diffedit/core';

import { encodeImage, requireSingleImage } from './image-latents.js';

/** What GenerateMask's and DDIMInvert's `image` input takes: the shared encoding, or an image to encode. */
export const ENCODED_IMAGE_SOCKET = ['ENCODED_IMAGE', 'IMAGE'] as const;

const NODE = 'VAEEncode';

export const VAEEncodeNode = defineNode({
  type: NODE,
  version: 1,
  title: 'VAE encode',
  category: 'diffedit',
  description:
    'Image → its VAE posterior (vae.encode(2x − 1)), computed once and shared: GenerateMask draws its ' +
    'num_maps_per_mask latents and DDIMInvert its one latent from it, as diffusers does. Also fits the cheap ' +
    'latent → RGB map the previews use, so they need no extra decode.',
  inputs: { model: { type: 'DIFFUSION_MODEL' }, image: { type: 'IMAGE' } },
  params: {},
  outputs: { encoded: { type: 'ENCODED_IMAGE', description: 'The encoding of the one input image.' } },
  async run(ctx, inputs) {
    const image = requireSingleImage(inputs.image, inputs.model, NODE);
    return { encoded: await encodeImage(inputs.model, image, ctx.signal) };
  },
});
