import { describe, expect, it } from 'vitest';
import { declaredTokens, withDeclaredTokens } from '../../src/models/declared-tokens.js';

describe('declaredTokens (what transformers registers as added tokens)', () => {
  it('collects added_tokens_decoder, the *_token fields, additional_special_tokens and added_tokens.json', () => {
    const tokens = declaredTokens(
      {
        added_tokens_decoder: {
          '0': { content: '!', normalized: false, special: true },
          '7': { content: '<extra>', normalized: true, special: false, lstrip: true },
        },
        pad_token: '!',
        mask_token: { content: '[MASK]', normalized: false },
        additional_special_tokens: ['[ENC]'],
      },
      { eos_token: { content: '</s>', normalized: false, rstrip: true } },
      { '[DEC]': 30522, '[ENC]': 30523 },
    );
    const byContent = Object.fromEntries(tokens.map((t) => [t.content, t]));
    expect(Object.keys(byContent).sort()).toEqual(['!', '</s>', '<extra>', '[DEC]', '[ENC]', '[MASK]']);
    expect(byContent['!']).toMatchObject({ id: 0, special: true, normalized: false });
    expect(byContent['<extra>']).toMatchObject({ id: 7, special: false, normalized: true, lstrip: true });
    expect(byContent['[ENC]']).toMatchObject({ id: 30523, special: true, normalized: false });
    expect(byContent['[DEC]']).toMatchObject({ id: 30522, special: false });
    expect(byContent['</s>']).toMatchObject({ id: undefined, special: true, rstrip: true });
    expect(byContent['[MASK]']).toMatchObject({ id: undefined, special: true });
  });

  it('appends to tokenizer.json only what it lacks, with ids from the vocabulary when none is declared', () => {
    const json = {
      added_tokens: [{ id: 1, content: '</s>', special: true }],
      model: {
        type: 'Unigram',
        vocab: [
          ['<pad>', 0],
          ['</s>', 0],
          ['[MASK]', -1],
        ],
      },
    };
    const tokens = declaredTokens(
      { pad_token: '<pad>', eos_token: '</s>', mask_token: '[MASK]', unk_token: '?' },
      {},
      {},
    );
    const added = (withDeclaredTokens(json, tokens).added_tokens as { id: number; content: string }[]).map(
      (t) => [t.id, t.content],
    );
    // '?' is in no vocabulary and has no declared id: the model has no embedding for it, so it is left out
    expect(added).toEqual([
      [1, '</s>'],
      [0, '<pad>'],
      [2, '[MASK]'],
    ]);
    expect(withDeclaredTokens(json, [])).toBe(json);
  });
});
