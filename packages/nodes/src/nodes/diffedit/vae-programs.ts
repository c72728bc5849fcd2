// The VAE's conversions as programs (see models/program.ts), run next to the VAE sessions (in the model worker,
// or on this thread in-process): the caller sends an image's 8-bit bytes and gets the encoder's output and the
// preview fit back, or sends latents and gets the decoded image with its display bytes, instead of converting
// megabytes of floats on the main thread. The conversions are core's, unchanged: the same values either way.
// Imported by the model worker too: nothing here may import Node-only or heavy modules (no sharp, tokenizers).
import { decodedToImage, imageToModelRange, scale, Tensor, unscaleLatents } from '@diffedit/core';

import { sliceRows } from '../../models/batching.js';
import { defineProgram } from '../../models/program.js';
import type { ProgramContext } from '../../models/program.js';
import { runRowChunks } from '../../models/program-rows.js';
import { floatFeed } from '../../models/wire-tensor.js';
import type { WireDType } from '../../models/wire-tensor.js';
import { ownedBuffers } from '../../models/worker-protocol.js';
import type { LatentPreviewProjection } from '../../pixels/latent-preview.js';
import { fitPreviewProjection } from '../../pixels/preview-fit.js';

/** This module as the model worker imports it (see loop-programs.ts: dist/, also from the sources). */
const MODULE = new URL('../../../dist/nodes/diffedit/vae-programs.js', import.meta.url).href;

/** How to call a VAE session as DiffusionModel does: its input's float type and the output to read. */
export interface VaeCallIo {
  readonly inputName: string;
  readonly inputType: WireDType;
  readonly outName: string;
}

export interface EncodeImageInput {
  readonly io: VaeCallIo;
  readonly maxBatch: number | undefined;
  /** [B, 3, H, W] */
  readonly dims: readonly number[];
  /** the image's 8-bit levels when it is made of them (Tensor.byteLevels), else its float values */
  readonly pixels: Uint8Array | Float32Array;
  /** fit the preview projection (one image) from the latent mean (or sample) times this scaling factor */
  readonly fit?: { readonly scalingFactor: number; readonly parameters: boolean };
}

export interface EncodeImageOutput {
  /** the encoder's output as float32 (latent_parameters or latent_sample), rows stacked */
  readonly dims: readonly number[];
  readonly data: Float32Array;
  readonly previewProjection?: LatentPreviewProjection;
}

/** One session output per chunk of rows, stacked as float32 (DiffusionModel's runChunked inside a program). */
function runRows(
  ctx: ProgramContext,
  role: string,
  io: VaeCallIo,
  maxBatch: number | undefined,
  input: Tensor,
): Promise<Tensor> {
  return runRowChunks(ctx, role, io.outName, input.dims[0], maxBatch, (start, end) => {
    const rows = sliceRows(input, start, end);
    return { [io.inputName]: floatFeed(io.inputType, rows.dims, rows.data, false) };
  });
}

/** vae.encode(2x − 1) of an image batch (from its bytes when it has them), and the preview fit of one image. */
export const ENCODE_IMAGE_PROGRAM = defineProgram<EncodeImageInput, EncodeImageOutput>(
  MODULE,
  'encodeImage',
  async (input, ctx) => {
    const image =
      input.pixels instanceof Uint8Array
        ? Tensor.ofByteLevels(input.dims, input.pixels)
        : new Tensor(input.dims, input.pixels);
    const result = await runRows(ctx, 'vaeEncoder', input.io, input.maxBatch, imageToModelRange(image));
    const previewProjection = input.fit === undefined ? undefined : fitOf(image, result, input.fit);
    return {
      value: { dims: result.dims, data: result.data, ...(previewProjection ? { previewProjection } : {}) },
      transfer: ownedBuffers(result.data),
    };
  },
);

/** encodeImage's fit: the image against its latent (the mean of latent_parameters, or the sample), scaled. */
function fitOf(
  image: Tensor,
  result: Tensor,
  fit: { readonly scalingFactor: number; readonly parameters: boolean },
): LatentPreviewProjection | undefined {
  // a malformed output: no fit here, the caller's vaeEncodingOf names the problem
  if (result.rank !== 4 || (fit.parameters && result.dims[1] % 2 !== 0)) return undefined;
  const [, c2, h, w] = result.dims;
  const c = fit.parameters ? c2 / 2 : c2;
  const latent = new Tensor([1, c, h, w], result.data.subarray(0, c * h * w));
  const factor = image.dims[2] / h;
  return Number.isInteger(factor) && image.dims[3] === w * factor
    ? fitPreviewProjection(
        image.byteLevels ?? image.data,
        scale(latent, fit.scalingFactor).data,
        c,
        h,
        w,
        factor,
      )
    : { weights: [], bias: [0, 0, 0] };
}

export interface DecodeImageInput {
  readonly io: VaeCallIo;
  readonly maxBatch: number | undefined;
  /** scaled latents [B, C, h, w] (divided by the scaling factor here) */
  readonly dims: readonly number[];
  readonly latents: Float32Array;
  readonly scalingFactor: number;
}

export interface DecodeImageOutput {
  /** the image [B, 3, H, W]: clamp(x/2 + 0.5, 0, 1) of the decoder's output */
  readonly dims: readonly number[];
  readonly data: Float32Array;
  /** its display bytes (see core's display-bytes.ts), unless it holds a -0 or NaN */
  readonly display?: Uint8Array;
}

/** vae.decode(latents / scaling_factor) → clamp(x/2 + 0.5, 0, 1), with the image's display bytes. */
export const DECODE_IMAGE_PROGRAM = defineProgram<DecodeImageInput, DecodeImageOutput>(
  MODULE,
  'decodeImage',
  async (input, ctx) => {
    const latents = unscaleLatents(new Tensor(input.dims, input.latents), input.scalingFactor);
    const decoded = await runRows(ctx, 'vaeDecoder', input.io, input.maxBatch, latents);
    const { image, display } = decodedToImage(decoded, decoded);
    return {
      value: { dims: image.dims, data: image.data, ...(display ? { display } : {}) },
      transfer: ownedBuffers(image.data, ...(display ? [display] : [])),
    };
  },
);
