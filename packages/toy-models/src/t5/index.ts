import { packJson } from '../pack-io.js';
import { TOY_T5_DIMS } from './t5-dims.js';
import { buildToyT5Decoder } from './t5-decoder-graph.js';
import { buildToyT5Encoder } from './t5-encoder-graph.js';
import {
  T5_EOS_ID,
  T5_PAD_ID,
  toyT5SpecialTokensMap,
  toyT5TokenizerConfig,
  toyT5TokenizerJson,
  toyT5VocabSize,
} from './t5-tokenizer-json.js';

export { CAPTION_TEMPLATES } from './caption-templates.js';
export type { CaptionTemplate } from './caption-templates.js';
export { TOY_COLOUR_WORDS, TOY_OBJECT_WORDS, TOY_SHAPE_NOUNS } from './concept-words.js';
export { TOY_T5_DIMS } from './t5-dims.js';
export { T5_EOS_ID, T5_PAD_ID, T5_UNK_ID } from './t5-tokenizer-json.js';

const ONNX_OPTIONS = { opsetVersion: 17, producerName: 'diffedit-studio' } as const;

/** config.json of the toy Flan-T5 (the fields of google/flan-t5-small's, with the toy's sizes). */
export function toyT5Config(): Record<string, unknown> {
  return {
    architectures: ['T5ForConditionalGeneration'],
    d_ff: TOY_T5_DIMS.dModel * 2,
    d_kv: TOY_T5_DIMS.dKv,
    d_model: TOY_T5_DIMS.dModel,
    decoder_start_token_id: T5_PAD_ID,
    dense_act_fn: 'gelu_new',
    eos_token_id: T5_EOS_ID,
    feed_forward_proj: 'gated-gelu',
    is_encoder_decoder: true,
    is_gated_act: true,
    layer_norm_epsilon: 1e-6,
    model_type: 't5',
    n_positions: 512,
    num_decoder_layers: TOY_T5_DIMS.numLayers,
    num_heads: TOY_T5_DIMS.numHeads,
    num_layers: TOY_T5_DIMS.numLayers,
    pad_token_id: T5_PAD_ID,
    tie_word_embeddings: false,
    use_cache: true,
    vocab_size: toyT5VocabSize(),
  };
}

/** Every file of the toy Flan-T5 pack, name → bytes. Pure function of the source: same code, same bytes. */
export function toyT5PackFiles(): Map<string, Uint8Array> {
  return new Map<string, Uint8Array>([
    ['config.json', packJson(toyT5Config())],
    [
      'generation_config.json',
      packJson({ decoder_start_token_id: T5_PAD_ID, eos_token_id: T5_EOS_ID, pad_token_id: T5_PAD_ID }),
    ],
    ['tokenizer.json', packJson(toyT5TokenizerJson())],
    ['tokenizer_config.json', packJson(toyT5TokenizerConfig())],
    ['special_tokens_map.json', packJson(toyT5SpecialTokensMap())],
    ['encoder_model.onnx', buildToyT5Encoder().toModelBytes(ONNX_OPTIONS)],
    ['decoder_model.onnx', buildToyT5Decoder(false).toModelBytes(ONNX_OPTIONS)],
    ['decoder_model_merged.onnx', buildToyT5Decoder(true).toModelBytes(ONNX_OPTIONS)],
  ]);
}
