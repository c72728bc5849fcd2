import { addedToken } from './added-token.js';
import type { JsonObject } from './model-files.js';

// CLIP's byte-level BPE, as transformers' CLIPTokenizerFast writes it to tokenizer.json. Older Stable
// Diffusion exports ship only vocab.json + merges.txt; this rebuilds the tokenizer.json object in memory so
// that the same library tokenizes both layouts.
const CLIP_SPLIT_PATTERN =
  "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/** CLIP's normalizer (NFC, whitespace runs to one space, lower case), shared with the toy CLIP tokenizer. */
export const CLIP_NORMALIZER: JsonObject = {
  type: 'Sequence',
  normalizers: [
    { type: 'NFC' },
    { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
    { type: 'Lowercase' },
  ],
};

export interface ClipVocabFiles {
  readonly vocab: Record<string, number>;
  /** merges.txt contents (the `#version` header line is skipped). */
  readonly merges: string;
  readonly bosToken?: string;
  readonly eosToken?: string;
  readonly unkToken?: string;
}

export function parseMerges(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.length > 0 && !line.startsWith('#version'));
}

export function clipTokenizerJson(files: ClipVocabFiles): JsonObject {
  const bos = files.bosToken ?? '<|startoftext|>';
  const eos = files.eosToken ?? '<|endoftext|>';
  const unk = files.unkToken ?? eos;
  const idOf = (token: string): number => {
    const id = files.vocab[token];
    if (id === undefined) throw new Error(`vocab.json has no entry for the special token ${token}`);
    return id;
  };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [addedToken(idOf(bos), bos, true), addedToken(idOf(eos), eos, true)],
    normalizer: CLIP_NORMALIZER,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT_PATTERN }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [eos, idOf(eos)],
      cls: [bos, idOf(bos)],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '</w>' }, content: ' ' },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
        { type: 'Strip', content: ' ', start: 0, stop: 1 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: unk,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab: files.vocab,
      merges: parseMerges(files.merges),
    },
  };
}
