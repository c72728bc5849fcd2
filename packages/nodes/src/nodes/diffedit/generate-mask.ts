import {
  DDIMScheduler,
  defineNode,
  diffEditMaskFromUnetOutput,
  maskEncodeTimestep,
  maskUnetBatchLayout,
  NodeInputError,
  SeededRng,
  Tensor,
} from '@diffedit/core';

import { asFieldError, modelSchedulerConfig } from './diffusion-setup.js';
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
    const scheduler = asFieldError(NODE, 'num_inference_steps', () => {
      const s = new DDIMScheduler(modelSchedulerConfig(model).config);
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
    const x0 = await sampleImageLatents(model, encoded, n, rng.fork('posterior'), {
      signal,
      warn: (message) => ctx.warn({ code: UNSEEDED_POSTERIOR, field: 'model', message }),
    });
    const noise = rng.fork('noise').randn(x0.dims);
    const xt = scheduler.addNoise(x0, noise, tEnc, noise); // into the noise's buffer: it is not read again

    // diffusers' batch order (spec §5 quirk): [pos_src; neg_src; pos_tgt; neg_tgt], guided as o1 + g(o2 − o1).
    // Row r of the UNet batch is latent xt[r mod n] with group ⌊r / n⌋'s embedding; each call's rows are built
    // in buffers handed over to the model (a worker takes them instead of copies), not as one tiled batch.
    const rows = groups.length * n;
    const latentRow = xt.size / n;
    const chunk = params.max_batch;
    const calls = Math.ceil(rows / chunk);
    let out: Tensor | undefined;
    for (let i = 0; i < calls; i++) {
      const [a, b] = [i * chunk, Math.min(rows, (i + 1) * chunk)];
      const latents = new Tensor([b - a, ...xt.dims.slice(1)]);
      const first = groups[0];
      const embeddings = new Tensor([b - a, ...first.dims.slice(1)]);
      for (let r = a; r < b; r++) {
        latents.data.set(
          xt.data.subarray((r % n) * latentRow, ((r % n) + 1) * latentRow),
          (r - a) * latentRow,
        );
        embeddings.data.set(groups[Math.floor(r / n)].data, (r - a) * first.size);
      }
      const pred = await model.unet(latents, tEnc, embeddings, {
        signal,
        handOverSample: true,
        handOverEmbeddings: true,
      });
      out ??= new Tensor([rows, ...pred.dims.slice(1)]);
      out.data.set(pred.data, a * (out.size / rows));
      ctx.progress(i + 1, calls);
    }
    if (out === undefined) throw new Error(`${NODE}: no UNet call was made`);
    const { mask } = diffEditMaskFromUnetOutput(out, g, {
      batchSize: 1,
      numMapsPerMask: n,
      maskThresholdingRatio: params.mask_thresholding_ratio,
    });
    return { mask: mask.reshape([1, 1, mask.dims[1], mask.dims[2]]) };
  },
});

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
