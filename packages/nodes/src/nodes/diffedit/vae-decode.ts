import { defineNode, NodeInputError, Tensor } from '@diffedit/core';

import { decodeScaledLatents } from './image-latents.js';

export const VAEDecodeNode = defineNode({
  type: 'VAEDecode',
  version: 1,
  title: 'VAE decode',
  category: 'diffedit',
  description: 'Scaled latents → image: vae.decode(latents / scaling_factor), then clamp(x/2 + 0.5, 0, 1).',
  inputs: { model: { type: 'DIFFUSION_MODEL' }, latents: { type: 'LATENTS' } },
  params: {},
  outputs: { image: { type: 'IMAGE' } },
  async run(ctx, inputs) {
    const { model, latents } = inputs;
    if (!(latents instanceof Tensor) || latents.rank !== 4 || latents.dims[1] !== model.latentChannels) {
      throw new NodeInputError(
        'latents',
        `VAEDecode: latents must be [B, ${model.latentChannels}, h, w] for ${model.name}, got ${latents instanceof Tensor ? `[${latents.dims.join(', ')}]` : typeof latents}`,
      );
    }
    return { image: await decodeScaledLatents(model, latents, ctx.signal) };
  },
});
