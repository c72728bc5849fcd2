import type { WorkflowDoc } from '../diffedit/harness.js';

type NodeLine = [id: string, type: string, params?: Record<string, unknown>];

/**
 * One small workflow holding every built-in node type, wired so that each can run (64² images, few steps):
 * the fixture of the param-bounds walk. Inputs come from workflows/assets.
 */
export function everyNodeWorkflow(): WorkflowDoc {
  const nodes: NodeLine[] = [
    ['model', 'LoadDiffusionModel', { model: 'toy-sd' }],
    ['image', 'LoadImage', { image: 'assets/red-apple-on-blue.png', width: 64, height: 64 }],
    ['t5', 'LoadT5', { model: 'toy-flan-t5' }],
    ['blip', 'LoadBLIP', { model: 'toy-blip' }],
    ['caption', 'CaptionBLIP', { max_new_tokens: 16 }],
    ['concept', 'Text', { text: 'red apple' }],
    ['instruction', 'TextTemplate', { template: 'Provide a caption for images containing a {a}.' }],
    ['prompts', 'PromptT5', { num_return_sequences: 2, max_new_tokens: 16 }],
    ['embedding', 'EmbedPrompts'],
    ['target', 'Text', { text: 'a green pear' }],
    ['encode', 'VAEEncode'],
    ['mask', 'GenerateMask', { num_maps_per_mask: 2, num_inference_steps: 10 }],
    ['invert', 'DDIMInvert', { num_inference_steps: 10 }],
    ['denoise', 'MaskedDenoise'],
    ['decode', 'VAEDecode'],
    ['load_mask', 'LoadMask', { mask: 'assets/white-triangle-on-red.png', width: 64, height: 64 }],
    ['mask_image', 'MaskToImage'],
    ['grid', 'ImageGrid', { rows: 2, cols: 3 }], // six images: a–f
    ['preview', 'PreviewImage'],
    ['save', 'SaveImage', { filename_prefix: 'bounds' }],
    ['number', 'Number', { value: 0.5 }],
    ['integer', 'Integer', { value: 3 }],
    ['list', 'TextList', { text: 'a\nb' }],
    ['show', 'ShowValue'],
  ];
  const edges = [
    'blip.model->caption.model',
    'image.image->caption.image',
    'concept.text->instruction.a',
    't5.model->prompts.model',
    'instruction.text->prompts.instruction',
    'model.model->embedding.model',
    'prompts.prompts->embedding.prompts',
    'model.model->mask.model',
    'image.image->mask.image',
    'embedding.embedding->mask.source',
    'target.text->mask.target',
    'model.model->invert.model',
    'model.model->encode.model',
    'image.image->encode.image',
    'encode.encoded->invert.image', // GenerateMask takes the IMAGE itself: both kinds of `image` input run
    'target.text->invert.prompt',
    'model.model->denoise.model',
    'invert.inverted->denoise.inverted',
    'mask.mask->denoise.mask',
    'target.text->denoise.prompt',
    'model.model->decode.model',
    'denoise.latents->decode.latents',
    'load_mask.mask->mask_image.mask',
    'image.image->grid.a',
    'mask_image.image->grid.b',
    'decode.image->grid.c',
    'image.image->grid.d',
    'mask_image.image->grid.e',
    'decode.image->grid.f',
    'grid.image->preview.image',
    'denoise.image->save.image',
    'caption.caption->show.value',
  ];
  return {
    format: 'diffedit-studio.workflow',
    version: 1,
    name: 'every node',
    nodes: nodes.map(([id, type, params]) => ({ id, type, params: params ?? {} })),
    edges: edges.map((text, i) => {
      const [from, to] = text.split('->');
      const [fromNode, output] = from.split('.');
      const [toNode, input] = to.split('.');
      return { id: `e${i}`, from: { node: fromNode, output }, to: { node: toNode, input } };
    }),
  };
}
