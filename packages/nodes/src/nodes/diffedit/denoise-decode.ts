// MaskedDenoise's loop and the VAE decode of its result as one program: one request to the model worker
// instead of two. Each program request costs ~0.5 ms of wall beyond its own work on the bench UNet (the two
// messages, the wake-ups of both threads, the latents' copy back to the worker for the decode). The two
// programs' registered functions run as they are, one after the other: the same calls, the same values.
// Imported by the model worker too: nothing here may import Node-only or heavy modules.
import { defineProgram, lookupProgram } from '../../models/program.js';
import { DENOISE_PROGRAM } from './loop-programs.js';
import type { DenoiseInput } from './loop-programs.js';
import { DECODE_IMAGE_PROGRAM } from './vae-programs.js';
import type { DecodeImageInput, DecodeImageOutput } from './vae-programs.js';

/** This module as the model worker imports it (see loop-programs.ts: dist/, also from the sources). */
const MODULE = new URL('../../../dist/nodes/diffedit/denoise-decode.js', import.meta.url).href;

export interface DenoiseDecodeInput {
  readonly denoise: DenoiseInput;
  /** how to decode: the latents are the loop's result */
  readonly decode: Omit<DecodeImageInput, 'dims' | 'latents'>;
}

export interface DenoiseDecodeOutput {
  /** the edited latent [1, C, h, w], as DENOISE_PROGRAM gives it */
  readonly latents: Float32Array;
  /** its decoded image, as DECODE_IMAGE_PROGRAM gives it */
  readonly image: DecodeImageOutput;
}

/** DENOISE_PROGRAM then DECODE_IMAGE_PROGRAM on its latent, with the sessions `unet` and `vaeDecoder`. */
export const DENOISE_DECODE_PROGRAM = defineProgram<DenoiseDecodeInput, DenoiseDecodeOutput>(
  MODULE,
  'diffedit-denoise-decode',
  async (input, ctx) => {
    const denoise = await lookupProgram(DENOISE_PROGRAM.module, DENOISE_PROGRAM.name);
    const decode = await lookupProgram(DECODE_IMAGE_PROGRAM.module, DECODE_IMAGE_PROGRAM.name);
    const latents = (await denoise(input.denoise, ctx)).value as Float32Array;
    ctx.throwIfCancelled();
    const [, , c, h, w] = input.denoise.stepMajor.dims;
    const decodeInput: DecodeImageInput = { ...input.decode, dims: [1, c, h, w], latents };
    const image = await decode(decodeInput, ctx);
    return {
      value: { latents, image: image.value as DecodeImageOutput },
      // the decode read the latents on this thread (unscaled into an array of its own): both move as they are
      transfer: [latents.buffer as ArrayBuffer, ...(image.transfer ?? [])],
    };
  },
);
