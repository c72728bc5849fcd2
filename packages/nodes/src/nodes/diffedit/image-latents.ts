import {
  imageToModelRange,
  modelRangeToImage,
  NodeInputError,
  sampleVaePosterior,
  scale,
  Tensor,
  tileBatch,
  unscaleLatents,
} from '@diffedit/core';
import type { SeededRng } from '@diffedit/core';

import type { DiffusionModel } from '../../models/diffusion-model.js';
import { requireImage } from '../image/image-values.js';

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

/** Warning code: the export draws the VAE posterior inside its graph, so the seed cannot fix the result. */
export const UNSEEDED_POSTERIOR = 'unseeded_posterior';

export interface SampleLatentsOptions {
  readonly signal?: AbortSignal;
  /** Told once when the export samples inside its graph (the draws then ignore the seed). */
  readonly warn?: (message: string) => void;
}

/**
 * `count` latents of one image (diffusers' prepare_image_latents, spec §4): one VAE encode, then `count`
 * independent posterior samples drawn in JS by core's sampleVaePosterior. An export that samples inside the
 * graph (`latent_sample`) encodes `count` copies of the image in one batch instead, so that the samples are
 * independent as in diffusers; its draws cannot follow the seed, which `warn` is told once.
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
    const encoding = await model.vaeEncode(tileBatch(imageToModelRange(image), count), { signal });
    return scale(encoding.kind === 'sample' ? encoding.sample : encoding.mean, s);
  }
  const encoding = await model.vaeEncode(imageToModelRange(image), { signal });
  if (encoding.kind !== 'parameters')
    throw new Error('VAE encoder returned a sample for a parameters export');
  // latent_parameters (mean ‖ logvar along channels) once per sample; the draws go sample by sample.
  const { mean, logvar } = encoding;
  const parameters = new Tensor([1, 2 * mean.dims[1], mean.dims[2], mean.dims[3]]);
  parameters.data.set(mean.data);
  parameters.data.set(logvar.data, mean.size);
  return sampleVaePosterior(tileBatch(parameters, count), rng, s);
}

/** Scaled latents [B, C, h, w] → IMAGE: vae.decode(latents / scaling_factor), clamp(x/2 + 0.5, 0, 1). */
export async function decodeScaledLatents(
  model: DiffusionModel,
  latents: Tensor,
  signal?: AbortSignal,
): Promise<Tensor> {
  const decoded = await model.vaeDecode(unscaleLatents(latents, model.scalingFactor), { signal });
  return modelRangeToImage(decoded, decoded);
}
