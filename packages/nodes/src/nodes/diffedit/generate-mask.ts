import {
  DDIMScheduler,
  defineNode,
  maskEncodeTimestep,
  maskUnetBatchLayout,
  NodeInputError,
  SeededRng,
  Tensor,
} from '@diffedit/core';

import { asFieldError, modelSchedulerConfig } from './diffusion-setup.js';
import { ProgressRelay } from './latent-previews.js';
import { ownedBuffers } from '../../models/worker-protocol.js';
import { latentSource, MASK_PROGRAM } from './loop-programs.js';
import type { LatentSource } from './loop-programs.js';
import { rememberedSourceRows, rememberSourceRows } from './mask-source-memo.js';
import type { SourceHalfKey } from './mask-source-memo.js';
import { requireEncodedImage, sampleImageLatents, UNSEEDED_POSTERIOR } from './image-latents.js';
import { ENCODED_IMAGE_SOCKET } from './vae-encode.js';
import { PROMPT_SOCKET, promptEmbedding } from './prompt-embeddings.js';

const NODE = 'GenerateMask';

export const GenerateMaskNode = defineNode({
  type: NODE,
  version: 1,
  title: 'Generate mask (DiffEdit)',
  category: 'diffedit',
  description:
    'DiffEdit step 1 (diffusers generate_mask): noises the image latent to mask_encode_strength, predicts the ' +
    'noise under the source and the target prompt, averages |difference| over num_maps_per_mask draws and the ' +
    'channels, clamps at mask_thresholding_ratio × mean and thresholds at 0.5. Output at latent resolution; ' +
    '1 = repaint.',
  inputs: {
    model: { type: 'DIFFUSION_MODEL' },
    image: {
      type: ENCODED_IMAGE_SOCKET,
      description: 'From VAEEncode (shared with DDIMInvert), or an IMAGE this node encodes itself.',
    },
    source: { type: PROMPT_SOCKET, description: 'What is there (source_prompt / source_prompt_embeds).' },
    target: { type: PROMPT_SOCKET, description: 'The edit (target_prompt / target_prompt_embeds).' },
    source_negative: {
      type: PROMPT_SOCKET,
      required: false,
      description: 'source_negative_prompt; default "".',
    },
    target_negative: {
      type: PROMPT_SOCKET,
      required: false,
      description: 'target_negative_prompt; default "".',
    },
  },
  params: {
    num_maps_per_mask: { kind: 'int', default: 10, min: 1, max: 256 },
    mask_encode_strength: { kind: 'number', default: 0.5, min: 0, exclusiveMin: true, max: 1, step: 0.01 },
    mask_guidance_scale: { kind: 'number', default: 7.5, min: 0, max: 50, step: 0.1 },
    mask_thresholding_ratio: {
      kind: 'number',
      default: 3.0,
      min: 0,
      exclusiveMin: true,
      max: 100,
      step: 0.1,
    },
    num_inference_steps: { kind: 'int', default: 50, min: 1, max: 1000 },
    seed: { kind: 'seed', default: 0 },
    max_batch: {
      kind: 'int',
      default: 16,
      min: 1,
      max: 1024,
      description: 'Largest UNet batch per call (the full batch is 4 × num_maps_per_mask); bounds memory.',
    },
  },
  outputs: {
    mask: { type: 'MASK', description: 'Binary mask [1,1,h,w] at latent resolution.' },
  },
  async run(ctx, inputs, params) {
    const model = inputs.model;
    const signal = ctx.signal;
    if (!(params.mask_thresholding_ratio > 0)) {
      throw new NodeInputError('mask_thresholding_ratio', `${NODE}: mask_thresholding_ratio must be > 0`);
    }
    const n = params.num_maps_per_mask;
    const g = params.mask_guidance_scale;
    const { config } = modelSchedulerConfig(model);
    const scheduler = asFieldError(NODE, 'num_inference_steps', () => {
      const s = new DDIMScheduler(config);
      s.setTimesteps(params.num_inference_steps);
      return s;
    });
    const tEnc = asFieldError(NODE, 'mask_encode_strength', () =>
      maskEncodeTimestep(scheduler, params.mask_encode_strength),
    );

    const fields = {
      source: 'source',
      target: 'target',
      sourceNegative: 'source_negative',
      targetNegative: 'target_negative',
    } as const;
    const layout = maskUnetBatchLayout('diffusers', g);
    const groups: Tensor[] = [];
    for (const slot of layout) {
      const field = fields[slot];
      groups.push(await promptEmbedding(model, inputs[field], { node: NODE, field, signal, warn: ctx.warn }));
    }
    if (samePrompt(inputs.source, inputs.target)) {
      ctx.warn({
        code: 'same_prompts',
        field: 'target',
        message:
          'the target is the same as the source: DiffEdit finds what differs between them, so the mask will ' +
          'be empty and nothing will be edited',
      });
    }

    // RNG draw 1: n posterior samples of the one VAE encoding; draw 2: one noise shared by source and target
    const rng = new SeededRng(params.seed);
    const encoded = await requireEncodedImage(inputs.image, model, NODE, signal);
    // (the program draws them from the posterior's parameters when the export gives them)
    const x0 = await latentSource(encoded.encoding, model.scalingFactor, n, params.seed, () =>
      sampleImageLatents(model, encoded, n, rng.fork('posterior'), {
        signal,
        warn: (message) => ctx.warn({ code: UNSEEDED_POSTERIOR, field: 'model', message }),
      }),
    );
    // the groups' embedding rows in one tensor [G, L, D], in the layout's order
    const first = groups[0];
    const packed = new Tensor([groups.length, ...first.dims.slice(1)]);
    groups.forEach((group, i) => packed.data.set(group.data, i * first.size));
    // the source half's UNet outputs from the last run of this model, when everything they depend on is the
    // same (a re-run that changes only the target): see mask-source-memo.ts
    const sourceKey = sourceHalfKey(x0.source, packed, {
      config,
      steps: params.num_inference_steps,
      timestep: tEnc,
      seed: String(params.seed),
      chunk: params.max_batch,
      unet: model.unetIo,
      maxBatch: model.maxBatch ?? null,
    });
    const sourceRows = rememberedSourceRows(model, sourceKey);
    const relay = new ProgressRelay(ctx);
    // the noising, the UNet calls (in chunks of max_batch, diffusers' batch order) and the reduction to a
    // mask all run next to the UNet: one request, the mask back
    const result = await relay.around((loopSignal) =>
      model.runUnetProgram(MASK_PROGRAM, {
        input: {
          unet: { io: model.unetIo, maxBatch: model.maxBatch },
          config,
          numInferenceSteps: params.num_inference_steps,
          timestep: tEnc,
          seed: params.seed,
          latents: x0.source,
          groups: { dims: packed.dims, data: packed.data },
          guidanceScale: g,
          maskThresholdingRatio: params.mask_thresholding_ratio,
          chunk: params.max_batch,
          sourceRows,
        },
        transfer: [...x0.transfer, ...ownedBuffers(packed.data)],
        signal: loopSignal,
        onEvent: relay.onEvent,
      }),
    );
    if (result.sourceRows !== undefined) rememberSourceRows(model, sourceKey, result.sourceRows);
    const mask = new Tensor(result.mask.dims, result.mask.data);
    return { mask: mask.reshape([1, 1, mask.dims[1], mask.dims[2]]) };
  },
});

/**
 * What the source half of the mask's UNet batch depends on, with the arrays copied (the call hands the
 * originals to the model worker): the latents (or the posterior they are drawn from), the source groups'
 * embedding rows (the first half of `packed`) and the scalars.
 */
function sourceHalfKey(
  source: LatentSource,
  packed: Tensor,
  scalars: Record<string, unknown>,
): SourceHalfKey {
  const arrays =
    source.kind === 'latents'
      ? [source.latents.data.slice()]
      : [source.mean.data.slice(), source.logvar.data.slice()];
  arrays.push(packed.data.slice(0, packed.size / 2));
  const { kind } = source;
  const shape =
    kind === 'latents'
      ? { kind, dims: source.latents.dims }
      : {
          kind,
          dims: source.mean.dims,
          scalingFactor: source.scalingFactor,
          count: source.count,
          seed: String(source.seed),
        };
  return { scalars: JSON.stringify({ ...scalars, ...shape, groups: packed.dims }), arrays };
}

/** Whether source and target are the same prompt (same text up to spaces and case, or the same embedding). */
function samePrompt(source: unknown, target: unknown): boolean {
  const norm = (t: string): string => t.trim().replace(/\s+/g, ' ').toLowerCase();
  if (typeof source === 'string' && typeof target === 'string') return norm(source) === norm(target);
  if (source instanceof Tensor && target instanceof Tensor) {
    return (
      source === target ||
      (source.dims.join() === target.dims.join() && source.data.every((v, i) => v === target.data[i]))
    );
  }
  return false;
}
