import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOY_COLOUR_WORDS, TOY_OBJECT_WORDS, toyT5PackFiles, writePackFiles } from '../../src/index.js';
import { instructionFor, loadTokenizer } from './t5-test-harness.js';

let dir: string;
let tokenizer: Tokenizer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toy-t5-tok-'));
  await writePackFiles(dir, toyT5PackFiles());
  tokenizer = await loadTokenizer(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('toy Flan-T5 tokenizer.json (Unigram, read by @huggingface/tokenizers)', () => {
  it('keeps T5 special ids: <pad> 0, </s> 1, <unk> 2', () => {
    expect(tokenizer.token_to_id('<pad>')).toBe(0);
    expect(tokenizer.token_to_id('</s>')).toBe(1);
    expect(tokenizer.token_to_id('<unk>')).toBe(2);
  });

  it('appends </s> and no start token, like T5', () => {
    const { ids, tokens } = tokenizer.encode('a red apple');
    expect(tokens).toEqual(['▁a', '▁red', '▁apple', '</s>']);
    expect(ids[ids.length - 1]).toBe(1);
    expect(ids.filter((id: number) => id === 1)).toHaveLength(1);
  });

  it.each([
    instructionFor('red apple'),
    instructionFor('cat'),
    'a photo of a Cat',
    'apples and oranges, 42 of them!',
    'a close-up of an orange',
  ])('round-trips %j', (text) => {
    const { ids } = tokenizer.encode(text);
    expect(ids).not.toContain(2);
    expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe(text);
  });

  it('collapses runs of spaces like T5 does', () => {
    const { ids } = tokenizer.encode('a  red   apple');
    expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe('a red apple');
  });

  it('gives every colour and object word one piece (so a concept is found and copied word by word)', () => {
    for (const word of [...TOY_COLOUR_WORDS, ...TOY_OBJECT_WORDS]) {
      expect(tokenizer.encode(word).tokens, word).toEqual([`▁${word}`, '</s>']);
    }
  });

  it('spells unknown words in characters and maps unseen characters to <unk>', () => {
    expect(tokenizer.encode('zebra').tokens.slice(0, -1).join('')).toBe('▁zebra');
    expect(tokenizer.encode('café').ids).toContain(2);
  });

  it('fits the decoder: config vocab_size covers every piece, special ids as in the config', async () => {
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, number>;
    expect(config.vocab_size).toBeGreaterThanOrEqual(tokenizer.get_vocab().size);
    expect(config.decoder_start_token_id).toBe(0);
    expect(config.eos_token_id).toBe(1);
    expect(config.pad_token_id).toBe(0);
  });
});
