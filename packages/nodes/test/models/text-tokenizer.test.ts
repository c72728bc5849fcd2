import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/models/model-errors.js';
import { TextTokenizer } from '../../src/models/text-tokenizer.js';
import { writeTinyTokenizer } from './fixtures/tiny-tokenizer.js';

// CLIP's real vocabulary, shipped beside the project as test data only (never copied into it).
const CLIP_DIR = join(import.meta.dirname, '../../../../../shared/reference/clip-tokenizer');
const root = mkdtempSync(join(tmpdir(), 'diffedit-tok-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!existsSync(join(CLIP_DIR, 'vocab.json')))(
  'CLIP vocab.json + merges.txt (real SD export layout)',
  () => {
    it('rebuilds CLIP’s tokenizer.json in memory and encodes the known prompts', async () => {
      const tok = await TextTokenizer.fromFolder(CLIP_DIR);
      expect(tok.info.source).toBe('vocab.json+merges.txt');
      expect(tok.encode('a photo of a cat')).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
      expect(tok.encode('a bowl of fruits')).toEqual([49406, 320, 3814, 539, 13282, 49407]);
      // lower-cased and whitespace-collapsed before BPE
      expect(tok.encode('  A   Photo of\ta CAT ')).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    });

    it('pads to 77 with eos (SD 1.x) or "!" = 0 (SD 2.x)', async () => {
      const tok = await TextTokenizer.fromFolder(CLIP_DIR);
      const sd1 = tok.encodePadded('a photo of a cat', 77, tok.tokenToId('<|endoftext|>') as number);
      expect(sd1.slice(0, 7)).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
      expect(sd1.length).toBe(77);
      expect(new Set(sd1.slice(6))).toEqual(new Set([49407]));
      const sd2 = tok.encodePadded('a bowl of fruits', 77, tok.tokenToId('!') as number);
      expect(sd2.slice(0, 7)).toEqual([49406, 320, 3814, 539, 13282, 49407, 0]);
      expect(new Set(sd2.slice(6))).toEqual(new Set([0]));
    });
  },
);

describe('tokenizer.json vs vocab.json + merges.txt', () => {
  it('give the same ids, and the pad token comes from the tokenizer files', async () => {
    writeTinyTokenizer(join(root, 'json'), 'tokenizer.json', '!');
    writeTinyTokenizer(join(root, 'pair'), 'vocab+merges', 'eos');
    const a = await TextTokenizer.fromFolder(join(root, 'json'));
    const b = await TextTokenizer.fromFolder(join(root, 'pair'));
    expect(a.info.source).toBe('tokenizer.json');
    expect(b.info.source).toBe('vocab.json+merges.txt');
    for (const text of ['a photo of a cat', 'Red  APPLE', 'a bowl of dog', 'catdog']) {
      expect(b.encode(text)).toEqual(a.encode(text));
    }
    expect(a.encode('a cat').length).toBe(4);
    expect(a.padTokenId()).toBe(0);
    expect(b.padTokenId()).toBe(49407);
    expect(a.info.modelMaxLength).toBe(77);
  });

  it('a folder without tokenizer files is an error naming it', async () => {
    const err = await TextTokenizer.fromFolder(join(root, 'empty')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).message).toMatch(/empty: tokenizer\.json: missing tokenizer/);
  });
});
