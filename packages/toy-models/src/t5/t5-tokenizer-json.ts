import { addedToken } from '@diffedit/nodes';
import { toyContentWords } from './concept-words.js';

/** Piece ids fixed by T5's sentencepiece model (and relied on by its generation config). */
export const T5_PAD_ID = 0;
export const T5_EOS_ID = 1;
export const T5_UNK_ID = 2;

/** The metaspace character sentencepiece puts in front of every word. */
export const METASPACE = '\u2581';

/** Words of PromptT5's instruction, kept whole so that the encoder can find "containing a(n) … ." */
const INSTRUCTION_WORDS = [
  'Provide',
  'a',
  'an',
  'caption',
  'for',
  'images',
  'containing',
  'The',
  'captions',
  'should',
  'be',
  'in',
  'English',
  'and',
  'no',
  'longer',
  'than',
  '150',
  'characters',
];

/** Words of the toy decoder's caption grammar (all neutral for the toy text encoder). */
export const CAPTION_GRAMMAR_WORDS = [
  'photo',
  'of',
  'close-up',
  'on',
  'wooden',
  'table',
  'bowl',
  'picture',
  'single',
  'basket',
  'the',
  'with',
];

/** Single characters so that any ASCII text has a segmentation without <unk> (like sentencepiece's coverage). */
const CHARACTER_PIECES = [
  ...'abcdefghijklmnopqrstuvwxyz',
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ...'0123456789',
  ...'.,;:!?\'"-()/&%+*=#@',
];

// Log-probability scores: whole words beat any spelling out of characters, as in a trained unigram model.
const WORD_SCORE = -6;
const SUFFIX_SCORE = -9;
const CHARACTER_SCORE = -10;
const BARE_METASPACE_SCORE = -8;

/** T5 pads its embedding matrix past the sentencepiece vocabulary (32100 → 32128); the toy does the same. */
const VOCAB_MULTIPLE = 8;

export interface UnigramPiece {
  readonly piece: string;
  readonly score: number;
}

/** All pieces in id order: <pad>, </s>, <unk>, then words, suffixes and characters. */
export function toyT5Pieces(): UnigramPiece[] {
  const pieces: UnigramPiece[] = [
    { piece: '<pad>', score: 0 },
    { piece: '</s>', score: 0 },
    { piece: '<unk>', score: 0 },
  ];
  const seen = new Set(pieces.map((p) => p.piece));
  const add = (piece: string, score: number): void => {
    if (seen.has(piece)) return;
    seen.add(piece);
    pieces.push({ piece, score });
  };
  for (const word of [...INSTRUCTION_WORDS, ...CAPTION_GRAMMAR_WORDS, ...toyContentWords()]) {
    add(METASPACE + word, WORD_SCORE);
  }
  for (const suffix of ['s', 'es', '.']) add(suffix, SUFFIX_SCORE);
  add(METASPACE, BARE_METASPACE_SCORE);
  for (const ch of CHARACTER_PIECES) add(ch, CHARACTER_SCORE);
  return pieces;
}

/** Size of the decoder's logits (config.vocab_size): the piece count rounded up like T5's. */
export function toyT5VocabSize(): number {
  return Math.ceil(toyT5Pieces().length / VOCAB_MULTIPLE) * VOCAB_MULTIPLE;
}

/** Id of a piece (throws for a piece that the toy vocabulary lacks: a programming error, not user input). */
export function t5PieceId(piece: string): number {
  const id = toyT5Pieces().findIndex((p) => p.piece === piece);
  if (id < 0) throw new Error(`toy Flan-T5 vocabulary has no piece '${piece}'`);
  return id;
}

/** Id of a whole word as sentencepiece writes it at the start of a word ("▁apple"). */
export function t5WordId(word: string): number {
  return t5PieceId(METASPACE + word);
}

/** tokenizer.json in the layout of T5's fast tokenizer (Unigram, metaspace, "</s>" appended). */
export function toyT5TokenizerJson(): Record<string, unknown> {
  const pieces = toyT5Pieces();
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      addedToken(T5_PAD_ID, '<pad>', false),
      addedToken(T5_EOS_ID, '</s>', false),
      addedToken(T5_UNK_ID, '<unk>', false),
    ],
    // T5 ships a precompiled NFKC charsmap; plain NFKC is the same mapping for the toy's ASCII world.
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'WhitespaceSplit' },
        { type: 'Metaspace', replacement: METASPACE, prepend_scheme: 'always', split: true },
      ],
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      special_tokens: { '</s>': { id: '</s>', ids: [T5_EOS_ID], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: METASPACE, prepend_scheme: 'always', split: true },
    model: {
      type: 'Unigram',
      unk_id: T5_UNK_ID,
      vocab: pieces.map((p) => [p.piece, p.score]),
      byte_fallback: false,
    },
  };
}

export function toyT5TokenizerConfig(): Record<string, unknown> {
  return {
    add_prefix_space: true,
    clean_up_tokenization_spaces: true,
    eos_token: '</s>',
    extra_ids: 0,
    additional_special_tokens: [],
    legacy: false,
    model_max_length: 512,
    pad_token: '<pad>',
    tokenizer_class: 'T5Tokenizer',
    unk_token: '<unk>',
  };
}

export function toyT5SpecialTokensMap(): Record<string, unknown> {
  const token = (content: string): Record<string, unknown> => ({
    content,
    lstrip: false,
    normalized: false,
    rstrip: false,
    single_word: false,
  });
  return { eos_token: token('</s>'), pad_token: token('<pad>'), unk_token: token('<unk>') };
}
