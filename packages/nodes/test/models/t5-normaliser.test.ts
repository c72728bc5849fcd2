import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { PrecompiledCharsmap } from '../../src/models/precompiled-charsmap.js';
import { TextTokenizer } from '../../src/models/text-tokenizer.js';
import { REAL_EXPORTS } from './fixtures/real-exports.js';

// Flan-T5's normaliser (SentencePiece's nmt_nfkc charsmap) against Hugging Face tokenizers' Rust core, the one
// transformers' T5TokenizerFast runs; the reference and how it was made: data/t5_normaliser_reference.mjs.
const DATA = join(import.meta.dirname, 'data');
const charsmap = gunzipSync(readFileSync(join(DATA, 'nmt-nfkc-charsmap.bin.gz')));
const reference = JSON.parse(readFileSync(join(DATA, 't5-normaliser-reference.json'), 'utf8')) as {
  checked: number;
  map: Record<string, string>;
  texts: { text: string; normalized: string; ids: number[] }[];
};
const root = mkdtempSync(join(tmpdir(), 'diffedit-t5-norm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const skipped = (cp: number): boolean =>
  (cp >= 0xd800 && cp < 0xe000) ||
  (cp >= 0x3400 && cp < 0x4dc0) ||
  (cp >= 0x4e00 && cp < 0xa000) ||
  (cp >= 0xac00 && cp < 0xd7a4) ||
  (cp >= 0x20000 && cp < 0x2f800);

describe('PrecompiledCharsmap (T5’s nmt_nfkc normaliser)', () => {
  const exact = new PrecompiledCharsmap(charsmap);

  it('maps every code point U+0020…U+2FFFF exactly as tokenizers does', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (let cp = 0x20; cp < 0x30000; cp++) {
      if (skipped(cp)) continue;
      checked++;
      const c = String.fromCodePoint(cp);
      const expected = reference.map[cp.toString(16)] ?? c;
      if (exact.normalize(c) !== expected) wrong.push(cp.toString(16));
    }
    expect(checked).toBe(reference.checked);
    expect(wrong).toEqual([]);
  });

  it('normalises sentences (grapheme clusters, ZWJ emoji, decomposed accents) as tokenizers does', () => {
    for (const row of reference.texts) expect(exact.normalize(row.text)).toBe(row.normalized);
  });
});

describe('a T5 tokenizer.json with Flan-T5’s Precompiled normaliser', () => {
  it('gives T5TokenizerFast’s ids for non-ASCII text', async () => {
    const folder = join(root, 't5');
    cpSync(join(REAL_EXPORTS, 't5-tiny'), folder, { recursive: true });
    const json = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    json.normalizer = {
      type: 'Sequence',
      normalizers: [
        { type: 'Precompiled', precompiled_charsmap: charsmap.toString('base64') },
        { type: 'Replace', pattern: { String: ' {2,}' }, content: ' ' },
      ],
    };
    writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(json));
    const tokenizer = await TextTokenizer.fromFolder(folder);
    for (const row of reference.texts)
      expect([row.text, tokenizer.encode(row.text)]).toEqual([row.text, row.ids]);
  });
});
