import type { JsonObject } from './model-files.js';

/**
 * A special token's entry in tokenizer.json's `added_tokens`, as the fast tokenizers write it. `normalized` is
 * true for CLIP's tokens and false for BERT's (BLIP) and T5's.
 */
export function addedToken(id: number, content: string, normalized: boolean): JsonObject {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized, special: true };
}
