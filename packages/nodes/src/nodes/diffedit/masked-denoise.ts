import type { NodeWarningInit } from '@diffedit/core';
import {
  DDIMScheduler,
  defineNode,
  invertedLatentsStepMajor,
  maskedDenoisePlan,
  NodeInputError,
  resizeMaskToLatent,
  Tensor,
} from '@diffedit/core';

import { requireMask } from '../image/image-values.js';
import { asFieldError } from './diffusion-setup.js';
import { promptConditioning } from './guided-unet.js';
import { DENOISE_DECODE_PROGRAM } from './denoise-decode.js';
import type { DenoiseDecodeOutput } from './denoise-decode.js';
import { decodedImage, decodeScaledLatents } from './image-latents.js';
import { previewSettings, ProgressRelay } from './latent-previews.js';
import { DENOISE_PROGRAM } from './loop-programs.js';
import type { DenoiseInput } from './loop-programs.js';
import { PROMPT_SOCKET } from './prompt-embeddings.js';
import type { InvertedLatents } from './values.js';

const NODE = 'MaskedDenoise';

/**
 * A mask fitted to the latent grid by core's resizeMaskToLatent: area-averaged when its size differs (a latent
 * cell is repainted when at least half of its pixels are; diffusers refuses, pitfall P2) and binarised at 0.5
 * (spec §4). Returns [1, 1, h, w].
 */
export function maskForLatents(value: unknown, h: number, w: number): Tensor {
  const mask = requireMask(value, 'mask');
  if (mask.dims[2] === 0 || mask.dims[3] === 0)
    throw new NodeInputError('mask', `${NODE}: the mask is empty`);
  if (mask.dims[0] !== 1)
    throw new NodeInputError('mask', `${NODE}: mask holds ${mask.dims[0]} masks; give one`);
  return resizeMaskToLatent(mask, h, w);
}

/**
 * What is legal but probably not meant: a mask of other proportions than the latents (stretched to fit — fine
 * for a mask painted on a LoadImage input that was itself stretched, a mistake otherwise), or nothing to repaint.
 */
/** The mask's share below which (or above 1 minus which) the edit is probably not what was meant. */
const MASK_COVERAGE_LIMITS = { min: 0.01, max: 0.9 } as const;

/** Warnings about the mask a MaskedDenoise gets (`given`) once fitted to the latent grid (`fitted`). */
export function maskWarnings(given: Tensor, fitted: Tensor): NodeWarningInit[] {
  const [, , mh, mw] = given.dims;
  const [, , h, w] = fitted.dims;
  const warnings: NodeWarningInit[] = [];
  if (Math.abs((mw * h) / mh - w) > 1 || Math.abs((mh * w) / mw - h) > 1) {
    warnings.push({
      code: 'mask_stretched',
      field: 'mask',
      message: `the mask (${mw}×${mh}) has other proportions than the latents (${w}×${h}); it is stretched`,
    });
  }
  let covered = 0;
  for (const v of fitted.data) if (v === 1) covered++;
  const share = covered / fitted.data.length;
  const percent = (share * 100).toFixed(share < 0.1 ? 1 : 0);
  if (covered === 0) {
    warnings.push({
      code: 'mask_empty',
      field: 'mask',
      message: 'the mask is empty (nothing to repaint): the result is the inverted image, nothing is edited',
    });
  } else if (share < MASK_COVERAGE_LIMITS.min) {
    warnings.push({
      code: 'mask_nearly_empty',
      field: 'mask',
      message: `the mask covers only ${percent} % of the image: almost nothing will be edited`,
    });
  } else if (share > MASK_COVERAGE_LIMITS.max) {
    warnings.push({
      code: 'mask_nearly_full',
      field: 'mask',
      message:
        `the mask covers ${percent} % of the image: almost all of it will be repainted, not just the ` +
        'object (are source and target prompts about the object?)',
    });
  }
  return warnings;
}

function requireInverted(value: unknown): InvertedLatents {
  const v = value as Partial<InvertedLatents> | undefined;
  if (!v || !(v.latents instanceof Tensor) || !Array.isArray(v.timesteps) || v.latents.rank !== 5) {
    throw new NodeInputError('inverted', `${NODE}: inverted must come from DDIMInvert`);
  }
  return v as InvertedLatents;
}

export const MaskedDenoiseNode = defineNode({
  type: NODE,
  version: 1,
  title: 'Masked denoise (DiffEdit)',
  category: 'diffedit',
  description:
    'DiffEdit step 3 (diffusers __call__): DDIM-decodes from the noisiest inverted latent with the prompt ' +
    '(the edit), replacing the unmasked region by the stored inverted latent after every step. Steps and ' +
    'strength come from the inverted latents; a mask of another size is resized (nearest) to the latent grid.',
  inputs: {
    model: { type: 'DIFFUSION_MODEL' },
    inverted: { type: 'INVERTED_LATENTS' },
    mask: { type: 'MASK', description: '1 = repaint, 0 = keep.' },
    prompt: { type: PROMPT_SOCKET, description: 'prompt / prompt_embeds (the target description).' },
    negative: {
      type: PROMPT_SOCKET,
      required: false,
      description: 'negative_prompt (docs: the source); default "".',
    },
  },
  params: {
    guidance_scale: { kind: 'number', default: 7.5, min: 0, max: 50, step: 0.1 },
    eta: {
      kind: 'number',
      default: 0,
      min: 0,
      max: 1,
      step: 0.01,
      description: 'DDIM η (0 = deterministic).',
    },
    seed: { kind: 'seed', default: 0, description: 'Noise for η > 0.' },
    previews: { kind: 'bool', default: true, description: 'Stream cheap latent previews while denoising.' },
  },
  outputs: {
    latents: { type: 'LATENTS' },
    image: { type: 'IMAGE' },
  },
  async run(ctx, inputs, params) {
    const model = inputs.model;
    const signal = ctx.signal;
    const inverted = requireInverted(inputs.inverted);
    if (inverted.model !== model.folder) {
      ctx.log.warn(
        `${NODE}: the latents were inverted with ${inverted.model}, denoising with ${model.folder}`,
      );
    }
    const [b, s, c, h, w] = inverted.latents.dims;
    if (b !== 1) throw new NodeInputError('inverted', `${NODE}: inverted latents hold ${b} images; give one`);
    if (c !== model.latentChannels) {
      throw new NodeInputError(
        'inverted',
        `${NODE}: latents have ${c} channels, ${model.name} uses ${model.latentChannels}`,
      );
    }
    const mask = maskForLatents(inputs.mask, h, w);
    for (const warning of maskWarnings(requireMask(inputs.mask, 'mask'), mask)) ctx.warn(warning);

    // the schedule the latents were made with (P1 cannot happen: steps and strength travel with them)
    // DDIMInvert resolved this config (core's diffEditSchedulerConfig: steps_offset 1, clip_sample set).
    const scheduler = new DDIMScheduler(inverted.schedulerConfig);
    const plan = asFieldError(NODE, 'inverted', () => {
      scheduler.setTimesteps(inverted.numInferenceSteps);
      return maskedDenoisePlan(scheduler, inverted.strength, s);
    });
    if (plan.map((p) => p.timestep).join() !== inverted.timesteps.join()) {
      throw new NodeInputError(
        'inverted',
        `${NODE}: the inverted latents' timesteps do not match their schedule`,
      );
    }

    const g = params.guidance_scale;
    const embeddings = await promptConditioning(model, inputs.prompt, inputs.negative, g, {
      node: NODE,
      signal,
      warn: ctx.warn,
    });

    const stepMajor = invertedLatentsStepMajor(inverted.latents, 1); // [S, 1, C, h, w]
    const denoise: DenoiseInput = {
      unet: { io: model.unetIo, maxBatch: model.maxBatch },
      config: inverted.schedulerConfig,
      numInferenceSteps: inverted.numInferenceSteps,
      plan,
      // read only (the inverted latents stay cached here): DDIMInvert's program made them in shared
      // memory, so a worker reads them where they are; otherwise they are copied to it
      stepMajor: { dims: stepMajor.dims, data: stepMajor.data },
      mask: { dims: mask.dims, data: mask.data },
      guidanceScale: g,
      embeddings: { dims: embeddings.dims, data: embeddings.data },
      eta: params.eta,
      seed: params.seed,
      ...(params.previews ? { previews: previewSettings(inverted.previewProjection) } : {}),
    };
    const relay = new ProgressRelay(ctx);
    // the loop and the decode of its latent in one request where the UNet and the decoder share a backend
    const result = await relay.around<DenoiseDecodeOutput | Float32Array>((loopSignal) => {
      const invocation = { signal: loopSignal, onEvent: relay.onEvent };
      const decode = { io: model.vaeDecoderIo, maxBatch: model.maxBatch, scalingFactor: model.scalingFactor };
      return (
        model.runUnetDecoderProgram(DENOISE_DECODE_PROGRAM, { input: { denoise, decode }, ...invocation }) ??
        model.runUnetProgram(DENOISE_PROGRAM, { input: denoise, ...invocation })
      );
    });
    if (result instanceof Float32Array) {
      const x = new Tensor([1, c, h, w], result);
      return { latents: x, image: await decodeScaledLatents(model, x, signal) };
    }
    return { latents: new Tensor([1, c, h, w], result.latents), image: decodedImage(result.image) };
  },
});
