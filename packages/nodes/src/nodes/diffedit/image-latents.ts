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

export interface SampleLatentsOptions {
  readonly signal?: AbortSignal;
  /** Told once when the export samples inside its graph (the draws then ignore the seed). */
  readonly warn?: (message: string) => void;
}

/**
 * `count` latents of one image (diffusers' prepare_image_latents, spec §4): one VAE encode, then `count`
 * independent posterior samples drawn in JS, (mean + exp(½·logvar)·ε)·scaling_factor. An export that samples
 * inside the graph (`latent_sample`) encodes `count` copies of the image in one batch instead, so that the
 * samples are independent as in diffusers; its draws cannot follow the seed, which `warn` is told once.
 */
export async function sampleImageLatents(
  model: DiffusionModel,
  image: Tensor,
  count: number,
  rng: SeededRng,
  options: SampleLatentsOptions = {},
): Promise<Tensor> {
  const { signal, warn } = options;
  const s = model.scalingFactor;
  if (model.samplesPosteriorInGraph) {
    warn?.(
      `${model.name}'s VAE encoder samples the posterior inside the ONNX graph (output latent_sample), so ` +
        'its draws ignore the seed and results are not reproducible; re-export with optimum ≥ 1.17 ' +
        '(output latent_parameters) for seeded runs',
    );
    const signed = imageToSigned(image);
    const copies = new Tensor([count, ...signed.dims.slice(1)]);
    for (let k = 0; k < count; k++) copies.data.set(signed.data, k * signed.size);
    const encoding = await model.vaeEncode(copies, { signal });
    const sample = encoding.kind === 'sample' ? encoding.sample : encoding.mean;
    const out = new Tensor(sample.dims);
    for (let i = 0; i < sample.size; i++) out.data[i] = sample.data[i] * s;
    return out;
  }
  const encoding = await model.vaeEncode(imageToSigned(image), { signal });
  if (encoding.kind !== 'parameters')
    throw new Error('VAE encoder returned a sample for a parameters export');
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
