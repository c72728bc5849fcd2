import { addedToken } from './added-token.js';
import type { JsonObject } from './model-files.js';

/** A token that a tokenizer folder's config files declare as added (and usually special). */
export interface DeclaredToken {
  readonly content: string;
  /** From `added_tokens_decoder` / `added_tokens.json`; else looked up in the vocabulary. */
  readonly id: number | undefined;
  readonly special: boolean;
  readonly normalized: boolean;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  readonly singleWord: boolean;
}

const SPECIAL_KEYS = [
  'bos_token',
  'eos_token',
  'unk_token',
  'sep_token',
  'pad_token',
  'cls_token',
  'mask_token',
] as const;

function flag(obj: JsonObject, key: string, fallback: boolean): boolean {
  const v = obj[key];
  return typeof v === 'boolean' ? v : fallback;
}

/** A token given as a string or an AddedToken object; strings of special tokens are not normalized. */
function fromValue(value: unknown, id: number | undefined, special: boolean): DeclaredToken | undefined {
  if (typeof value === 'string') {
    return {
      content: value,
      id,
      special,
      normalized: !special,
      lstrip: false,
      rstrip: false,
      singleWord: false,
    };
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const obj = value as JsonObject;
  if (typeof obj.content !== 'string') return undefined;
  const isSpecial = flag(obj, 'special', special);
  return {
    content: obj.content,
    id,
    special: isSpecial,
    normalized: flag(obj, 'normalized', !isSpecial),
    lstrip: flag(obj, 'lstrip', false),
    rstrip: flag(obj, 'rstrip', false),
    singleWord: flag(obj, 'single_word', false),
  };
}

/**
 * Every added token that `tokenizer_config.json` (`added_tokens_decoder`, the `*_token` fields,
 * `additional_special_tokens`), `special_tokens_map.json` and `added_tokens.json` declare, as transformers
 * registers them when it loads the folder: the first declaration of a content wins, ids from
 * `added_tokens_decoder` / `added_tokens.json` first. SD 2's pad token `!` is one: transformers splits every `!`
 * of a prompt off as the special token id 0.
 */
export function declaredTokens(
  config: JsonObject | undefined,
  specialMap: JsonObject | undefined,
  addedTokensJson: JsonObject | undefined,
): DeclaredToken[] {
  const byContent = new Map<string, DeclaredToken>();
  const add = (token: DeclaredToken | undefined): void => {
    if (token === undefined) return;
    const known = byContent.get(token.content);
    if (known === undefined) byContent.set(token.content, token);
    else if (known.id === undefined && token.id !== undefined)
      byContent.set(token.content, { ...known, id: token.id });
  };
  const decoder = config?.added_tokens_decoder;
  if (typeof decoder === 'object' && decoder !== null) {
    for (const [key, value] of Object.entries(decoder as JsonObject)) {
      const id = Number(key);
      if (Number.isInteger(id) && id >= 0) add(fromValue(value, id, false));
    }
  }
  const ids = new Map<string, number>();
  for (const [content, id] of Object.entries(addedTokensJson ?? {})) {
    if (typeof id === 'number' && Number.isInteger(id)) ids.set(content, id);
  }
  for (const source of [config, specialMap]) {
    if (source === undefined) continue;
    for (const key of SPECIAL_KEYS) {
      const value = source[key];
      const content = typeof value === 'string' ? value : (value as JsonObject | null)?.content;
      add(fromValue(value, typeof content === 'string' ? ids.get(content) : undefined, true));
    }
    const extra = source.additional_special_tokens;
    if (Array.isArray(extra)) {
      for (const value of extra) {
        const content = typeof value === 'string' ? value : (value as JsonObject | null)?.content;
        add(fromValue(value, typeof content === 'string' ? ids.get(content) : undefined, true));
      }
    }
  }
  for (const [content, id] of ids) add(fromValue(content, id, false));
  return [...byContent.values()];
}

/** The id of a token in a tokenizer.json model's vocabulary (BPE/WordPiece object, Unigram list). */
function vocabId(model: JsonObject | undefined, token: string): number | undefined {
  const vocab = model?.vocab;
  if (Array.isArray(vocab)) {
    const index = vocab.findIndex((entry) => Array.isArray(entry) && entry[0] === token);
    return index >= 0 ? index : undefined;
  }
  if (typeof vocab === 'object' && vocab !== null) {
    const id = (vocab as JsonObject)[token];
    return typeof id === 'number' ? id : undefined;
  }
  return undefined;
}

/**
 * tokenizer.json's object with the declared tokens it lacks appended to `added_tokens` (a token whose id is
 * neither declared nor in the vocabulary is left out: the model has no embedding for it).
 */
export function withDeclaredTokens(json: JsonObject, declared: readonly DeclaredToken[]): JsonObject {
  const existing = Array.isArray(json.added_tokens) ? (json.added_tokens as JsonObject[]) : [];
  const have = new Set(existing.map((t) => t.content));
  const extra: JsonObject[] = [];
  for (const token of declared) {
    if (have.has(token.content)) continue;
    const id = token.id ?? vocabId(json.model as JsonObject | undefined, token.content);
    if (id === undefined) continue;
    have.add(token.content);
    extra.push({
      ...addedToken(id, token.content, token.normalized),
      single_word: token.singleWord,
      lstrip: token.lstrip,
      rstrip: token.rstrip,
      special: token.special,
    });
  }
  return extra.length === 0 ? json : { ...json, added_tokens: [...existing, ...extra] };
}
