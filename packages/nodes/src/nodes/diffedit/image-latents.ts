import {
  batchView,
  imageToModelRange,
  modelRangeToImage,
  NodeInputError,
  noteDisplayBytes,
  sampleVaePosterior,
  scale,
  Tensor,
  tileBatch,
  unscaleLatents,
} from '@diffedit/core';
import type { SeededRng } from '@diffedit/core';

import type { DiffusionModel, VaeEncoding } from '../../models/diffusion-model.js';
import { fitPreviewProjection } from '../../pixels/index.js';
import { requireImage } from '../image/image-values.js';
import { DECODE_IMAGE_PROGRAM, ENCODE_IMAGE_PROGRAM } from './vae-programs.js';
import type { DecodeImageOutput } from './vae-programs.js';
import type { EncodedImage } from './values.js';

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

/** One VAE encode of one image (checked with requireSingleImage), with its preview projection. */
export async function encodeImage(
  model: DiffusionModel,
  image: Tensor,
  signal?: AbortSignal,
): Promise<EncodedImage> {
  // next to the session (the model worker): it gets the image's bytes, not 3 MiB of model-range floats
  const levels = image.byteLevels;
  const parameters = !model.samplesPosteriorInGraph;
  const run = model.runVaeProgram('vaeEncoder', ENCODE_IMAGE_PROGRAM, {
    input: {
      io: model.vaeEncoderIo,
      maxBatch: model.maxBatch,
      dims: image.dims,
      // copied to the worker: the image stays cached here
      pixels: levels ?? image.data,
      fit: { scalingFactor: model.scalingFactor, parameters },
    },
    ...(signal === undefined ? {} : { signal }),
  });
  if (run === undefined) return encodeImageHere(model, image, signal);
  const out = await run;
  const encoding = model.vaeEncodingOf(new Tensor(out.dims, out.data));
  return encodedImage(model, image, encoding, out.previewProjection ?? NO_PROJECTION);
}

const NO_PROJECTION = { weights: [], bias: [0, 0, 0] as const };

/** encodeImage on this thread, for sessions whose backend runs no programs (the same values). */
export async function encodeImageHere(
  model: DiffusionModel,
  image: Tensor,
  signal?: AbortSignal,
): Promise<EncodedImage> {
  const encoding = await model.vaeEncode(imageToModelRange(image), { signal, handOverInput: true });
  const latent = encoding.kind === 'sample' ? encoding.sample : encoding.mean;
  const [, c, h, w] = latent.dims;
  const factor = image.dims[2] / h;
  const previewProjection =
    Number.isInteger(factor) && image.dims[3] === w * factor
      ? fitPreviewProjection(
          image.byteLevels ?? image.data,
          scale(latent, model.scalingFactor).data,
          c,
          h,
          w,
          factor,
        )
      : NO_PROJECTION;
  return encodedImage(model, image, encoding, previewProjection);
}

function encodedImage(
  model: DiffusionModel,
  image: Tensor,
  encoding: VaeEncoding,
  previewProjection: EncodedImage['previewProjection'],
): EncodedImage {
  return {
    encoding,
    model: model.folder,
    width: image.dims[3],
    height: image.dims[2],
    previewProjection,
    // only an export that samples inside its graph needs the image again, for more independent draws
    ...(encoding.kind === 'sample' ? { image } : {}),
  };
}

/**
 * The `image` input of GenerateMask / DDIMInvert: VAEEncode's ENCODED_IMAGE (the image encoded once for both),
 * or an IMAGE, which the node then encodes itself (workflows made before VAEEncode existed).
 */
export async function requireEncodedImage(
  value: unknown,
  model: DiffusionModel,
  node: string,
  signal?: AbortSignal,
): Promise<EncodedImage> {
  if (value instanceof Tensor) return encodeImage(model, requireSingleImage(value, model, node), signal);
  const v = value as Partial<EncodedImage> | undefined;
  if (
    !v ||
    typeof v.encoding !== 'object' ||
    typeof v.model !== 'string' ||
    v.previewProjection === undefined
  ) {
    throw new NodeInputError('image', `${node}: image must be an IMAGE or come from VAEEncode`);
  }
  if (v.model !== model.folder) {
    throw new NodeInputError(
      'image',
      `${node}: the image was encoded with ${v.model}, this node uses ${model.folder}; give both the same model`,
    );
  }
  return v as EncodedImage;
}

export interface SampleLatentsOptions {
  readonly signal?: AbortSignal;
  /** Told once when the export samples inside its graph (the draws then ignore the seed). */
  readonly warn?: (message: string) => void;
}

/**
 * `count` latents of one encoded image (diffusers' prepare_image_latents, spec §4): `count` independent
 * posterior samples drawn in JS by core's sampleVaePosterior from the one encoding. An export that samples
 * inside the graph (`latent_sample`) gave one draw, which serves a single latent; `count` > 1 encodes that
 * many copies of the image in one batch, so that the samples are independent as in diffusers; its draws cannot
 * follow the seed, which `warn` is told once.
 */
export async function sampleImageLatents(
  model: DiffusionModel,
  encoded: EncodedImage,
  count: number,
  rng: SeededRng,
  options: SampleLatentsOptions = {},
): Promise<Tensor> {
  const { signal, warn } = options;
  const s = model.scalingFactor;
  const encoding = encoded.encoding;
  if (encoding.kind === 'sample') {
    warn?.(
      `${model.name}'s VAE encoder samples the posterior inside the ONNX graph (output latent_sample), so ` +
        'its draws ignore the seed and results are not reproducible; re-export with optimum ≥ 1.17 ' +
        '(output latent_parameters) for seeded runs',
    );
    if (count === 1) return scale(encoding.sample, s);
    if (encoded.image === undefined) throw new Error('an in-graph-sampled encoding without its image');
    const copies = await model.vaeEncode(tileBatch(imageToModelRange(encoded.image), count), { signal });
    return scale(copies.kind === 'sample' ? copies.sample : copies.mean, s);
  }
  // latent_parameters (mean ‖ logvar along channels) once per sample; the draws go sample by sample.
  const { mean, logvar } = encoding;
  const [, c, h, w] = mean.dims;
  const parameters = new Tensor([1, 2 * c, h, w]);
  parameters.data.set(mean.data);
  parameters.data.set(logvar.data, mean.size);
  // sample by sample into the rows of one tensor: the draws of a tiled batch, without tiling it
  const out = new Tensor([count, c, h, w]);
  for (let i = 0; i < count; i++) sampleVaePosterior(parameters, rng, s, batchView(out, i));
  return out;
}

/**
 * Scaled latents [B, C, h, w] → IMAGE: vae.decode(latents / scaling_factor), clamp(x/2 + 0.5, 0, 1). Next to
 * the session (the model worker), which also rounds the image to its display bytes for the grid and SaveImage.
 */
export async function decodeScaledLatents(
  model: DiffusionModel,
  latents: Tensor,
  signal?: AbortSignal,
): Promise<Tensor> {
  const run = model.runVaeProgram('vaeDecoder', DECODE_IMAGE_PROGRAM, {
    input: {
      io: model.vaeDecoderIo,
      maxBatch: model.maxBatch,
      dims: latents.dims,
      // copied to the worker: the latents are an output too
      latents: latents.data,
      scalingFactor: model.scalingFactor,
    },
    ...(signal === undefined ? {} : { signal }),
  });
  if (run === undefined) return decodeScaledLatentsHere(model, latents, signal);
  return decodedImage(await run);
}

/** DECODE_IMAGE_PROGRAM's result as the IMAGE tensor, with its display bytes noted. */
export function decodedImage(out: DecodeImageOutput): Tensor {
  if (out.display !== undefined) noteDisplayBytes(out.data, out.display);
  return new Tensor(out.dims, out.data);
}

/** decodeScaledLatents on this thread, for sessions whose backend runs no programs (the same values). */
export async function decodeScaledLatentsHere(
  model: DiffusionModel,
  latents: Tensor,
  signal?: AbortSignal,
): Promise<Tensor> {
  const decoded = await model.vaeDecode(unscaleLatents(latents, model.scalingFactor), {
    signal,
    handOverInput: true,
  });
  return modelRangeToImage(decoded, decoded);
}
