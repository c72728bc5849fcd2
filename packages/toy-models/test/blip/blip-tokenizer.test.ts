import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toyBlipPackFiles, writePackFiles } from '../../src/index.js';
import { loadTokenizer } from '../t5/t5-test-harness.js';

let dir: string;
let tokenizer: Tokenizer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toy-blip-tok-'));
  await writePackFiles(dir, toyBlipPackFiles());
  tokenizer = await loadTokenizer(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('toy BLIP tokenizer.json (BERT uncased WordPiece, read by @huggingface/tokenizers)', () => {
  it('keeps BERT’s special ids and BLIP’s [DEC]/[ENC] after them', () => {
    const ids = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '[DEC]', '[ENC]'].map((t) =>
      tokenizer.token_to_id(t),
    );
    expect(ids).toEqual([0, 100, 101, 102, 103, 30522, 30523]);
  });

  it('wraps a prompt in [CLS] … [SEP] and lowercases it', () => {
    const { ids, tokens } = tokenizer.encode('A Photograph OF');
    expect(tokens).toEqual(['[CLS]', 'a', 'photograph', 'of', '[SEP]']);
    expect(ids[0]).toBe(101);
    expect(ids[ids.length - 1]).toBe(102);
    expect(tokenizer.encode('a photograph of').ids).toEqual(ids);
  });

  it.each([
    'a photograph of a red circle on a blue background',
    'a picture of a gray diamond on a magenta background',
    'zebra crossing, 42!',
  ])('round-trips %j', (text) => {
    const { ids } = tokenizer.encode(text);
    expect(ids).not.toContain(100);
    expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe(text);
  });

  it('spells unknown words with ## pieces and skips [DEC] when decoding a caption', () => {
    expect(tokenizer.encode('zebra').tokens).toEqual(['[CLS]', 'z', '##e', '##b', '##r', '##a', '[SEP]']);
    const caption = [30522, ...tokenizer.encode('a red ball').ids.slice(1)];
    expect(tokenizer.decode(caption, { skip_special_tokens: true })).toBe('a red ball');
  });

  it('maps characters outside the vocabulary to [UNK]', () => {
    expect(tokenizer.encode('a ☃').ids).toContain(100);
  });
});
