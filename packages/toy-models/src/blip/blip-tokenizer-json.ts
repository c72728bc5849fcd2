import { addedToken } from '@diffedit/nodes';
import { BLIP_COLOUR_NAMES } from './colour-names.js';

/** BERT's special ids, which BLIP keeps; BLIP appends [DEC] (its bos) and [ENC] after BERT's 30522 tokens. */
export const BLIP_PAD_ID = 0;
export const BLIP_UNK_ID = 100;
export const BLIP_CLS_ID = 101;
export const BLIP_SEP_ID = 102;
export const BLIP_MASK_ID = 103;
export const BLIP_DEC_ID = 30522;
export const BLIP_ENC_ID = 30523;
/** Rows of the text decoder's logits (BLIP's text_config.vocab_size). */
export const BLIP_VOCAB_SIZE = 30524;

/** First id of the toy's own pieces (BERT keeps 104… for [unused99]… and characters; the toy has no use for them). */
const FIRST_PIECE_ID = 1000;

/** Words of BLIP captions and prompts, and the shapes the toy vision model can tell apart. */
export const BLIP_SHAPE_WORDS = ['circle', 'square', 'triangle', 'ellipse', 'diamond', 'object'] as const;
const CAPTION_WORDS = [
  'a',
  'an',
  'the',
  'photograph',
  'photo',
  'picture',
  'image',
  'of',
  'on',
  'in',
  'with',
  'and',
  'background',
  'ball',
  'shape',
  'there',
  'is',
  'this',
];

/** Characters and continuation pieces, so that unknown words are spelled out rather than turned into [UNK]. */
const CHARACTERS = [...'abcdefghijklmnopqrstuvwxyz0123456789', ...'.,;:!?\'"-()/&%+*=#@'];

/** The WordPiece vocabulary: BERT's special tokens at their ids, then the toy pieces from FIRST_PIECE_ID. */
export function toyBlipVocab(): Map<string, number> {
  const vocab = new Map<string, number>([['[PAD]', BLIP_PAD_ID]]);
  for (let i = 1; i < BLIP_UNK_ID; i++) vocab.set(`[unused${i - 1}]`, i);
  vocab.set('[UNK]', BLIP_UNK_ID);
  vocab.set('[CLS]', BLIP_CLS_ID);
  vocab.set('[SEP]', BLIP_SEP_ID);
  vocab.set('[MASK]', BLIP_MASK_ID);
  let next = FIRST_PIECE_ID;
  const add = (piece: string): void => {
    if (!vocab.has(piece)) vocab.set(piece, next++);
  };
  for (const ch of CHARACTERS) add(ch);
  for (const ch of CHARACTERS) if (/[a-z0-9]/.test(ch)) add(`##${ch}`);
  for (const word of [...CAPTION_WORDS, ...BLIP_SHAPE_WORDS, ...BLIP_COLOUR_NAMES]) add(word);
  return vocab;
}

/** Id of a whole word (throws for a word the toy vocabulary lacks: a programming error, not user input). */
export function blipWordId(word: string): number {
  const id = toyBlipVocab().get(word);
  if (id === undefined) throw new Error(`toy BLIP vocabulary has no word '${word}'`);
  return id;
}

/** tokenizer.json in the layout of BLIP's (BERT uncased WordPiece) fast tokenizer. */
export function toyBlipTokenizerJson(): Record<string, unknown> {
  const cls = { SpecialToken: { id: '[CLS]', type_id: 0 } };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      addedToken(BLIP_PAD_ID, '[PAD]', false),
      addedToken(BLIP_UNK_ID, '[UNK]', false),
      addedToken(BLIP_CLS_ID, '[CLS]', false),
      addedToken(BLIP_SEP_ID, '[SEP]', false),
      addedToken(BLIP_MASK_ID, '[MASK]', false),
      addedToken(BLIP_DEC_ID, '[DEC]', false),
      addedToken(BLIP_ENC_ID, '[ENC]', false),
    ],
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [cls, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        cls,
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [BLIP_CLS_ID], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [BLIP_SEP_ID], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(toyBlipVocab()),
    },
  };
}

export function toyBlipTokenizerConfig(): Record<string, unknown> {
  return {
    bos_token: '[DEC]',
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_basic_tokenize: true,
    do_lower_case: true,
    mask_token: '[MASK]',
    model_max_length: 512,
    pad_token: '[PAD]',
    processor_class: 'BlipProcessor',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  };
}

export function toyBlipSpecialTokensMap(): Record<string, unknown> {
  return {
    additional_special_tokens: ['[ENC]'],
    bos_token: '[DEC]',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    unk_token: '[UNK]',
  };
}
