import { NodeInputError, Tensor } from '@diffedit/core';
import type { SeededRng } from '@diffedit/core';

import type { DiffusionModel } from '../../models/diffusion-model.js';
import { imageToSigned, requireImage, signedToImage } from '../image/image-values.js';

/** An IMAGE input of one image whose size the VAE can encode; the error names node and field. */
export function requireSingleImage(
  value: unknown,
  model: DiffusionModel,
  node: string,
  field = 'image',
): Tensor {
  const image = requireImage(value, field);
  if (image.dims[0] !== 1) {
    throw new NodeInputError(
      field,
      `${node}: ${field} holds ${image.dims[0]} images; DiffEdit nodes edit one image`,
    );
  }
  const [, , height, width] = image.dims;
  const f = model.vaeScaleFactor;
  if (height % f !== 0 || width % f !== 0) {
    throw new NodeInputError(
      field,
      `${node}: ${field} is ${width}×${height}; ${model.name} needs multiples of ${f} (set LoadImage's width/height)`,
    );
  }
  return image;
}

/**
 * `count` latents of one image (diffusers' prepare_image_latents, spec §4): one VAE encode, then `count`
 * posterior samples drawn in JS, (mean + exp(½·logvar)·ε)·scaling_factor. Exports that sample inside the
 * graph give one sample, repeated.
 */
export async function sampleImageLatents(
  model: DiffusionModel,
  image: Tensor,
  count: number,
  rng: SeededRng,
  signal?: AbortSignal,
): Promise<Tensor> {
  const encoding = await model.vaeEncode(imageToSigned(image), { signal });
  const s = model.scalingFactor;
  if (encoding.kind === 'sample') {
    const one = encoding.sample;
    const out = new Tensor([count, ...one.dims.slice(1)]);
    for (let k = 0; k < count; k++)
      for (let i = 0; i < one.size; i++) out.data[k * one.size + i] = one.data[i] * s;
    return out;
  }
  const { mean, logvar } = encoding;
  const n = mean.size;
  const std = new Float32Array(n);
  for (let i = 0; i < n; i++) std[i] = Math.exp(0.5 * logvar.data[i]);
  const out = new Tensor([count, ...mean.dims.slice(1)]);
  for (let k = 0; k < count; k++) {
    const base = k * n;
    for (let i = 0; i < n; i++) out.data[base + i] = (mean.data[i] + std[i] * rng.normal()) * s;
  }
  return out;
}

/** Scaled latents [B, C, h, w] → IMAGE: vae.decode(latents / scaling_factor), clamp(x/2 + 0.5, 0, 1). */
export async function decodeScaledLatents(
  model: DiffusionModel,
  latents: Tensor,
  signal?: AbortSignal,
): Promise<Tensor> {
  const scaled = new Tensor(latents.dims);
  for (let i = 0; i < latents.size; i++) scaled.data[i] = latents.data[i] / model.scalingFactor;
  return signedToImage(await model.vaeDecode(scaled, { signal }));
}
