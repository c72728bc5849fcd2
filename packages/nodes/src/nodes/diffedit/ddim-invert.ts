import {
  DDIMInverseScheduler,
  DDIMScheduler,
  defineNode,
  getInverseTimesteps,
  getTimesteps,
  SeededRng,
  Tensor,
} from '@diffedit/core';

import { asFieldError, modelSchedulerConfig } from './diffusion-setup.js';
import { promptConditioning } from './guided-unet.js';
import {
  decodeScaledLatents,
  requireEncodedImage,
  sampleImageLatents,
  UNSEEDED_POSTERIOR,
} from './image-latents.js';
import { previewSettings, ProgressRelay } from './latent-previews.js';
import { INVERT_PROGRAM, latentSource } from './loop-programs.js';
import { PROMPT_SOCKET } from './prompt-embeddings.js';
import type { InvertedLatents } from './values.js';
import { ENCODED_IMAGE_SOCKET } from './vae-encode.js';

const NODE = 'DDIMInvert';

/** Below this many denoising steps the edit is too weak or noisy to be what the user meant. */
const MIN_USEFUL_STEPS = 3;

export const DDIMInvertNode = defineNode({
  type: NODE,
  // 2: a scheduler config without clip_sample no longer clips (P5)
  version: 2,
  title: 'DDIM invert (DiffEdit)',
  category: 'diffedit',
  description:
    'DiffEdit step 2 (diffusers invert): DDIM-inverts the image latent with the prompt (usually the source ' +
    'description) up to inpaint_strength, keeping every level. The result carries its timesteps, steps and ' +
    'strength, so MaskedDenoise always continues it consistently.',
  inputs: {
    model: { type: 'DIFFUSION_MODEL' },
    image: {
      type: ENCODED_IMAGE_SOCKET,
      description: 'From VAEEncode (shared with GenerateMask), or an IMAGE this node encodes itself.',
    },
    prompt: { type: PROMPT_SOCKET, description: 'prompt / prompt_embeds (the source description).' },
    negative: { type: PROMPT_SOCKET, required: false, description: 'negative_prompt; default "".' },
  },
  params: {
    inpaint_strength: { kind: 'number', default: 0.8, min: 0, exclusiveMin: true, max: 1, step: 0.01 },
    guidance_scale: { kind: 'number', default: 7.5, min: 0, max: 50, step: 0.1 },
    num_inference_steps: { kind: 'int', default: 50, min: 1, max: 1000 },
    decode_latents: {
      kind: 'bool',
      default: false,
      description: 'Also decode every inverted latent (the images output; empty when off).',
    },
    num_reg_steps: {
      kind: 'int',
      default: 0,
      min: 0,
      max: 100,
      description: 'Regularisation steps (0 = off).',
    },
    lambda_auto_corr: { kind: 'number', default: 20, min: 0, max: 1000 },
    lambda_kl: { kind: 'number', default: 20, min: 0, max: 1000 },
    num_auto_corr_rolls: { kind: 'int', default: 5, min: 1, max: 100 },
    seed: { kind: 'seed', default: 0 },
    previews: { kind: 'bool', default: true, description: 'Stream cheap latent previews while inverting.' },
  },
  outputs: {
    inverted: { type: 'INVERTED_LATENTS' },
    images: { type: 'IMAGE', description: 'Decoded inverted latents, noisiest first (decode_latents only).' },
  },
  async run(ctx, inputs, params) {
    const model = inputs.model;
    const signal = ctx.signal;
    const { config, warnings } = modelSchedulerConfig(model);
    for (const warning of warnings) ctx.log.warn(`${NODE}: ${warning}`);
    const inverse = new DDIMInverseScheduler(config);
    const forward = new DDIMScheduler(config);
    asFieldError(NODE, 'num_inference_steps', () => {
      inverse.setTimesteps(params.num_inference_steps);
      forward.setTimesteps(params.num_inference_steps);
    });
    const { timesteps } = asFieldError(NODE, 'inpaint_strength', () =>
      getInverseTimesteps(inverse, params.inpaint_strength),
    );
    const forwardTimesteps = asFieldError(NODE, 'inpaint_strength', () =>
      getTimesteps(forward, params.inpaint_strength),
    ).timesteps;
    if (forwardTimesteps.join() !== [...timesteps].reverse().join()) {
      // diffusers forces steps_offset 1 on the forward scheduler only; it runs on regardless, and so do we
      ctx.log.warn(
        `${NODE}: the inverse timesteps [${timesteps.join(', ')}] are not the denoising ones reversed ` +
          `[${forwardTimesteps.join(', ')}] (steps_offset ${config.steps_offset}); MaskedDenoise follows diffusers`,
      );
    }

    const g = params.guidance_scale;
    const embeddings = await promptConditioning(model, inputs.prompt, inputs.negative, g, {
      node: NODE,
      signal,
      warn: ctx.warn,
    });
    if (timesteps.length < MIN_USEFUL_STEPS) {
      ctx.warn({
        code: 'too_few_steps',
        field: 'num_inference_steps',
        message:
          `num_inference_steps ${params.num_inference_steps} × inpaint_strength ${params.inpaint_strength} leaves ` +
          `${timesteps.length} denoising step(s): too few to repaint the masked region (use at least ` +
          `${MIN_USEFUL_STEPS}, e.g. more steps or a higher strength)`,
      });
    }

    const rng = new SeededRng(params.seed);
    const encoded = await requireEncodedImage(inputs.image, model, NODE, signal);
    // (the program draws it from the posterior's parameters when the export gives them)
    const x = await latentSource(encoded.encoding, model.scalingFactor, 1, params.seed, () =>
      sampleImageLatents(model, encoded, 1, rng.fork('posterior'), {
        signal,
        warn: (message) => ctx.warn({ code: UNSEEDED_POSTERIOR, field: 'model', message }),
      }),
    );
    const regularise = params.num_reg_steps > 0;
    const steps = timesteps.length;
    const relay = new ProgressRelay(ctx);
    const data = await relay.around((loopSignal) =>
      model.runUnetProgram(INVERT_PROGRAM, {
        input: {
          unet: { io: model.unetIo, maxBatch: model.maxBatch },
          config,
          numInferenceSteps: params.num_inference_steps,
          timesteps: [...timesteps],
          guidanceScale: g,
          embeddings: { dims: embeddings.dims, data: embeddings.data },
          latent: x.source,
          ...(regularise
            ? {
                regularisation: {
                  numRegSteps: params.num_reg_steps,
                  lambdaAutoCorr: params.lambda_auto_corr,
                  lambdaKl: params.lambda_kl,
                  numAutoCorrRolls: params.num_auto_corr_rolls,
                  seed: params.seed,
                },
              }
            : {}),
          ...(params.previews ? { previews: previewSettings(encoded.previewProjection) } : {}),
        },
        transfer: x.transfer,
        signal: loopSignal,
        onEvent: relay.onEvent,
      }),
    );
    const [, c, h, w] = x.dims;
    const latents = new Tensor([1, steps, c, h, w], data);
    const slots = latents.reshape([steps, c, h, w]);
    const inverted: InvertedLatents = {
      latents,
      timesteps: forwardTimesteps,
      numInferenceSteps: params.num_inference_steps,
      strength: params.inpaint_strength,
      schedulerConfig: config,
      model: model.folder,
      width: encoded.width,
      height: encoded.height,
      previewProjection: encoded.previewProjection,
    };
    let images = new Tensor([0, 3, encoded.height, encoded.width]);
    if (params.decode_latents) {
      images = await decodeScaledLatents(model, slots, signal);
    }
    return { inverted, images };
  },
});
