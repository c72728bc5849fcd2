import { addedToken, CLIP_NORMALIZER } from '@diffedit/nodes';
import {
  BOS_TOKEN,
  CLIP_BOS_ID,
  CLIP_EOS_ID,
  CLIP_MAX_LENGTH,
  EOS_TOKEN,
  toyVocabulary,
} from './vocabulary.js';

/**
 * The toy CLIP tokenizer as Hugging Face tokenizer files. A WordPiece model whose vocabulary holds whole words
 * only behaves like a word-level tokenizer (an unknown word finds no '##' continuation and becomes the unknown
 * token), and WordPiece is supported by @huggingface/tokenizers 0.2 where WordLevel is not. Like CLIP:
 * lower-casing, <|startoftext|> = 49406 and <|endoftext|> = 49407 around the text, unknown = <|endoftext|>,
 * padding to 77 with <|endoftext|> (declared here for loaders; tokenizers.js itself does not pad).
 */
export function toyTokenizerJson(): object {
  const words = [...toyVocabulary()].sort((a, b) => a[1] - b[1]);
  const vocab: Record<string, number> = {};
  for (const [word, id] of words) vocab[word] = id;
  vocab[BOS_TOKEN] = CLIP_BOS_ID;
  vocab[EOS_TOKEN] = CLIP_EOS_ID;
  const templatePiece = (token: string): object => ({ SpecialToken: { id: token, type_id: 0 } });
  const sequence = (id: 'A' | 'B'): object => ({ Sequence: { id, type_id: 0 } });
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: CLIP_MAX_LENGTH, strategy: 'LongestFirst', stride: 0 },
    padding: {
      strategy: { Fixed: CLIP_MAX_LENGTH },
      direction: 'Right',
      pad_to_multiple_of: null,
      pad_id: CLIP_EOS_ID,
      pad_type_id: 0,
      pad_token: EOS_TOKEN,
    },
    added_tokens: [addedToken(CLIP_BOS_ID, BOS_TOKEN, true), addedToken(CLIP_EOS_ID, EOS_TOKEN, true)],
    normalizer: CLIP_NORMALIZER,
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [templatePiece(BOS_TOKEN), sequence('A'), templatePiece(EOS_TOKEN)],
      pair: [
        templatePiece(BOS_TOKEN),
        sequence('A'),
        templatePiece(EOS_TOKEN),
        sequence('B'),
        templatePiece(EOS_TOKEN),
      ],
      special_tokens: {
        [BOS_TOKEN]: { id: BOS_TOKEN, ids: [CLIP_BOS_ID], tokens: [BOS_TOKEN] },
        [EOS_TOKEN]: { id: EOS_TOKEN, ids: [CLIP_EOS_ID], tokens: [EOS_TOKEN] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: EOS_TOKEN,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

export function toyTokenizerConfigJson(): object {
  return {
    tokenizer_class: 'CLIPTokenizer',
    model_max_length: CLIP_MAX_LENGTH,
    do_lower_case: true,
    bos_token: BOS_TOKEN,
    eos_token: EOS_TOKEN,
    unk_token: EOS_TOKEN,
    pad_token: EOS_TOKEN,
    add_prefix_space: false,
    clean_up_tokenization_spaces: true,
    errors: 'replace',
  };
}

export function toySpecialTokensMapJson(): object {
  return { bos_token: BOS_TOKEN, eos_token: EOS_TOKEN, unk_token: EOS_TOKEN, pad_token: EOS_TOKEN };
}
