import { defineNode } from '@diffedit/core';

import { loadModelFor } from './model-service.js';

export const LoadDiffusionModelNode = defineNode({
  type: 'LoadDiffusionModel',
  version: 1,
  title: 'Load diffusion model',
  category: 'models',
  description:
    'A Stable Diffusion export (optimum ONNX layout) from the models folder: text encoder, UNet, VAE, ' +
    'tokenizer and scheduler config. Default: the embedded toy pack.',
  inputs: {},
  params: { model: { kind: 'model', default: 'toy-sd', modelType: 'diffusion', label: 'Model folder' } },
  outputs: { model: { type: 'DIFFUSION_MODEL' } },
  async run(ctx, _inputs, params) {
    return { model: await loadModelFor(ctx, 'model', params.model, (m, name) => m.loadDiffusion(name)) };
  },
});

export const LoadT5Node = defineNode({
  type: 'LoadT5',
  version: 1,
  title: 'Load Flan-T5',
  category: 'models',
  description:
    'A Flan-T5 export (encoder + decoder ONNX, tokenizer.json) from the models folder. Default: the toy pack.',
  inputs: {},
  params: { model: { kind: 'model', default: 'toy-flan-t5', modelType: 't5', label: 'Model folder' } },
  outputs: { model: { type: 'T5_MODEL' } },
  async run(ctx, _inputs, params) {
    return { model: await loadModelFor(ctx, 'model', params.model, (m, name) => m.loadT5(name)) };
  },
});

export const LoadBLIPNode = defineNode({
  type: 'LoadBLIP',
  version: 1,
  title: 'Load BLIP',
  category: 'models',
  description:
    'A BLIP captioning export (vision model + text decoder ONNX) from the models folder. Default: the toy pack.',
  inputs: {},
  params: { model: { kind: 'model', default: 'toy-blip', modelType: 'blip', label: 'Model folder' } },
  outputs: { model: { type: 'BLIP_MODEL' } },
  async run(ctx, _inputs, params) {
    return { model: await loadModelFor(ctx, 'model', params.model, (m, name) => m.loadBlip(name)) };
  },
});
