import { packJson } from '../pack-io.js';
import { BLIP_IMAGE_MEAN, BLIP_IMAGE_STD, TOY_BLIP_DIMS } from './blip-dims.js';
import { buildToyBlipTextDecoder } from './blip-text-decoder-graph.js';
import {
  BLIP_DEC_ID,
  BLIP_PAD_ID,
  BLIP_SEP_ID,
  BLIP_VOCAB_SIZE,
  toyBlipSpecialTokensMap,
  toyBlipTokenizerConfig,
  toyBlipTokenizerJson,
} from './blip-tokenizer-json.js';
import { buildToyBlipVision } from './blip-vision-graph.js';

export { BLIP_IMAGE_MEAN, BLIP_IMAGE_STD, TOY_BLIP_DIMS } from './blip-dims.js';
export {
  BLIP_CLS_ID,
  BLIP_DEC_ID,
  BLIP_ENC_ID,
  BLIP_MASK_ID,
  BLIP_PAD_ID,
  BLIP_SEP_ID,
  BLIP_UNK_ID,
  BLIP_VOCAB_SIZE,
} from './blip-tokenizer-json.js';
export { BLIP_COLOUR_NAMES } from './colour-names.js';

const ONNX_OPTIONS = { opsetVersion: 17, producerName: 'diffedit-studio' } as const;
/** PIL's BICUBIC, the resampling filter of BLIP's image processor. */
const PIL_BICUBIC = 3;

/** config.json of the toy BLIP (the fields of Salesforce/blip-image-captioning-base's, with the toy's sizes). */
export function toyBlipConfig(): Record<string, unknown> {
  const hidden = TOY_BLIP_DIMS.hiddenSize;
  return {
    architectures: ['BlipForConditionalGeneration'],
    model_type: 'blip',
    projection_dim: hidden,
    text_config: {
      model_type: 'blip_text_model',
      vocab_size: BLIP_VOCAB_SIZE,
      hidden_size: hidden,
      encoder_hidden_size: hidden,
      num_attention_heads: 1,
      num_hidden_layers: 1,
      bos_token_id: BLIP_DEC_ID,
      eos_token_id: 2,
      pad_token_id: BLIP_PAD_ID,
      sep_token_id: BLIP_SEP_ID,
      max_position_embeddings: 512,
    },
    vision_config: {
      model_type: 'blip_vision_model',
      hidden_size: hidden,
      image_size: TOY_BLIP_DIMS.imageSize,
      patch_size: TOY_BLIP_DIMS.patchSize,
      num_attention_heads: 1,
      num_hidden_layers: 1,
    },
  };
}

export function toyBlipPreprocessorConfig(): Record<string, unknown> {
  const size = TOY_BLIP_DIMS.imageSize;
  return {
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [...BLIP_IMAGE_MEAN],
    image_processor_type: 'BlipImageProcessor',
    image_size: size,
    image_std: [...BLIP_IMAGE_STD],
    processor_class: 'BlipProcessor',
    resample: PIL_BICUBIC,
    rescale_factor: 1 / 255,
    size: { height: size, width: size },
  };
}

/** Every file of the toy BLIP pack, name → bytes. Pure function of the source: same code, same bytes. */
export function toyBlipPackFiles(): Map<string, Uint8Array> {
  return new Map<string, Uint8Array>([
    ['config.json', packJson(toyBlipConfig())],
    ['preprocessor_config.json', packJson(toyBlipPreprocessorConfig())],
    ['tokenizer.json', packJson(toyBlipTokenizerJson())],
    ['tokenizer_config.json', packJson(toyBlipTokenizerConfig())],
    ['special_tokens_map.json', packJson(toyBlipSpecialTokensMap())],
    ['vision_model.onnx', buildToyBlipVision().toModelBytes(ONNX_OPTIONS)],
    ['text_decoder.onnx', buildToyBlipTextDecoder().toModelBytes(ONNX_OPTIONS)],
  ]);
}
