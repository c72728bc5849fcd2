import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { clipTokenizerJson } from './clip-tokenizer-json.js';
import { declaredTokens, withDeclaredTokens } from './declared-tokens.js';
import { errorMessage, ModelError } from './model-errors.js';
import { PrecompiledCharsmap } from './precompiled-charsmap.js';
import type { JsonObject } from './model-files.js';
import { fileExists, numberField, readJsonFile, readOptionalJson, tokenField } from './model-files.js';

export interface TextTokenizerInfo {
  /** 'tokenizer.json' or 'vocab.json+merges.txt' (rebuilt in memory as CLIP's tokenizer.json). */
  readonly source: 'tokenizer.json' | 'vocab.json+merges.txt';
  readonly modelMaxLength: number | undefined;
  readonly padToken: string | undefined;
}

/**
 * A Hugging Face tokenizer loaded from a model folder (tokenizer.json or CLIP's vocab.json + merges.txt, with
 * the added tokens that tokenizer_config.json, special_tokens_map.json and added_tokens.json declare) with the
 * padding/truncation that @huggingface/tokenizers leaves to its caller.
 */
export class TextTokenizer {
  private constructor(
    readonly folder: string,
    private readonly tokenizer: Tokenizer,
    private readonly precompiled: PrecompiledCharsmap | undefined,
    readonly info: TextTokenizerInfo,
  ) {}

  static async fromFolder(folder: string): Promise<TextTokenizer> {
    const config = (await readOptionalJson(folder, 'tokenizer_config.json')) ?? {};
    const specialMap = await readOptionalJson(folder, 'special_tokens_map.json');
    const addedTokens = await readOptionalJson(folder, 'added_tokens.json');
    let json: JsonObject;
    let source: TextTokenizerInfo['source'];
    if (fileExists(folder, 'tokenizer.json')) {
      json = await readJsonFile(folder, 'tokenizer.json');
      source = 'tokenizer.json';
    } else if (fileExists(folder, 'vocab.json') && fileExists(folder, 'merges.txt')) {
      const vocab = await readJsonFile(folder, 'vocab.json');
      const merges = await readFile(join(folder, 'merges.txt'), 'utf8');
      const pick = (key: string): string | undefined =>
        tokenField(config, key) ?? tokenField(specialMap, key);
      try {
        json = clipTokenizerJson({
          vocab: vocab as Record<string, number>,
          merges,
          bosToken: pick('bos_token'),
          eosToken: pick('eos_token'),
          unkToken: pick('unk_token'),
        });
      } catch (error) {
        throw new ModelError('model_file_invalid', folder, 'vocab.json', errorMessage(error), error);
      }
      source = 'vocab.json+merges.txt';
    } else {
      throw new ModelError(
        'model_file_missing',
        folder,
        'tokenizer.json',
        'missing tokenizer (tokenizer.json, or vocab.json + merges.txt for a CLIP tokenizer)',
      );
    }
    // transformers registers every token the config files declare (SD 2's pad "!" included) as added tokens.
    json = withDeclaredTokens(json, declaredTokens(config, specialMap, addedTokens));
    let precompiled: PrecompiledCharsmap | undefined;
    try {
      [json, precompiled] = takeLeadingPrecompiled(json);
    } catch (error) {
      throw new ModelError('model_file_invalid', folder, 'tokenizer.json', errorMessage(error), error);
    }
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(json, config);
    } catch (error) {
      throw new ModelError('model_file_invalid', folder, source.split('+')[0], errorMessage(error), error);
    }
    const maxLength = numberField(config, 'model_max_length');
    return new TextTokenizer(folder, tokenizer, precompiled, {
      source,
      // transformers writes a huge sentinel (1e30) when a tokenizer has no limit.
      modelMaxLength: maxLength !== undefined && maxLength < 1e9 ? maxLength : undefined,
      padToken: tokenField(config, 'pad_token') ?? tokenField(specialMap, 'pad_token'),
    });
  }

  /** Token ids; with special tokens, as the tokenizer's post-processor adds them. */
  encode(text: string, addSpecialTokens = true): number[] {
    return this.tokenizer.encode(this.prenormalize(text), { add_special_tokens: addSpecialTokens }).ids;
  }

  tokens(text: string): string[] {
    return this.tokenizer.encode(this.prenormalize(text)).tokens;
  }

  /** The exact SentencePiece charsmap step that the library's normalizer would only approximate (T5). */
  private prenormalize(text: string): string {
    return this.precompiled === undefined ? text : this.precompiled.normalize(text);
  }

  decode(ids: readonly number[], skipSpecialTokens = true): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /** The pad id named by tokenizer_config.json / special_tokens_map.json, or `fallback`. */
  padTokenId(fallback?: number): number {
    const token = this.info.padToken;
    const id = token === undefined ? undefined : this.tokenToId(token);
    if (id !== undefined) return id;
    if (fallback !== undefined) return fallback;
    throw new ModelError('model_file_invalid', this.folder, 'tokenizer_config.json', 'no usable pad_token');
  }

  /**
   * Encodes with special tokens, truncates to `length` keeping the final special token (what
   * `truncation=True` does for a bos … eos template) and pads with `padId` (padding="max_length").
   */
  encodePadded(text: string, length: number, padId: number): number[] {
    let ids = this.encode(text);
    if (ids.length > length) ids = [...ids.slice(0, length - 1), ids[ids.length - 1]];
    while (ids.length < length) ids.push(padId);
    return ids;
  }
}

/**
 * tokenizer.json without its leading `Precompiled` normalizer (SentencePiece's charsmap, first in T5's
 * Sequence), and that charsmap, which the caller applies exactly before encoding: @huggingface/tokenizers
 * approximates it with NFKC, which differs from transformers for some text (ZWJ emoji sequences, decomposed
 * accents; docs/models.md). A Precompiled normalizer later in a sequence is left to the library.
 */
function takeLeadingPrecompiled(json: JsonObject): [JsonObject, PrecompiledCharsmap | undefined] {
  const normalizer = json.normalizer as JsonObject | null | undefined;
  const charsmapOf = (n: unknown): string | undefined => {
    const obj = n as JsonObject | null | undefined;
    return obj?.type === 'Precompiled' && typeof obj.precompiled_charsmap === 'string'
      ? obj.precompiled_charsmap
      : undefined;
  };
  const own = charsmapOf(normalizer);
  if (own !== undefined) return [{ ...json, normalizer: null }, PrecompiledCharsmap.fromBase64(own)];
  if (normalizer?.type === 'Sequence' && Array.isArray(normalizer.normalizers)) {
    const [first, ...rest] = normalizer.normalizers as unknown[];
    const charsmap = charsmapOf(first);
    if (charsmap !== undefined) {
      const remaining = rest.length === 0 ? null : { ...normalizer, normalizers: rest };
      return [{ ...json, normalizer: remaining }, PrecompiledCharsmap.fromBase64(charsmap)];
    }
  }
  return [json, undefined];
}
