// Writes t5-normaliser-reference.json: what Hugging Face tokenizers (the Rust core of transformers' fast
// tokenizers, npm package `tokenizers`) makes of non-ASCII text with T5's `Precompiled` normalizer
// (nmt-nfkc-charsmap.bin.gz, see nmt_nfkc_charsmap.py):
// - `map`: every code point from U+0020 to U+2FFFF (surrogates and the big CJK / Hangul blocks, which it leaves
//   alone, excepted) that it changes, with what it becomes (all others stay as they are);
// - `texts`: sentences with accents (composed and decomposed), emoji with ZWJ, full-width forms, ligatures,
//   spaces of all kinds, several scripts; `normalized` and the `ids` of the t5-tiny fixture's tokenizer.json with
//   Flan-T5's normalizer (Precompiled, then runs of spaces to one), as T5TokenizerFast encodes them.
// Run: NODE_PATH=<folder with node_modules/tokenizers> node t5_normaliser_reference.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const load = createRequire(join(process.env.NODE_PATH ?? here, 'x.js'));
const hf = load('tokenizers');
const charsmap = gunzipSync(readFileSync(join(here, 'nmt-nfkc-charsmap.bin.gz')));
const normalizer = hf.precompiled([...charsmap]);

const skip = (cp) =>
  (cp >= 0xd800 && cp < 0xe000) ||
  (cp >= 0x3400 && cp < 0x4dc0) ||
  (cp >= 0x4e00 && cp < 0xa000) ||
  (cp >= 0xac00 && cp < 0xd7a4) ||
  (cp >= 0x20000 && cp < 0x2f800);
const map = {};
let checked = 0;
for (let cp = 0x20; cp < 0x30000; cp++) {
  if (skip(cp)) continue;
  checked++;
  const c = String.fromCodePoint(cp);
  const out = normalizer.normalizeString(c);
  if (out !== c) map[cp.toString(16)] = out;
}

const texts = [
  'Café – naïve … déjà vu',
  'Cafe\u0301 – nai\u0308ve … de\u0301ja\u0300 vu',
  'a photo of a 👩‍💻 at work',
  'family 👨‍👩‍👧 portrait',
  'ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３',
  'ﬁne ﬂowers ½ cup x² 1st',
  'non\u00a0breaking\u2009thin\u202fnarrow\u3000ideographic',
  '“quoted” ‘single’ «guillemets» „low“',
  'Ångström µm ℃ № ™ ©',
  '한국어 텍스트 \u1100\u1161\u11a8 decomposed hangul',
  '日本語のテキスト ｶﾀｶﾅ',
  'Ελληνικά ΐ ΰ \u0344',
  'Русский текст ё Й',
  'हिन्दी पाठ क़',
  'ไทย ข้อความ',
  'عربي ﻻ ﷺ',
  'zero\u200bwidth\u200cnon\u200djoiner',
  'emoji 👍🏽 flags 🇫🇷 keycap 1️⃣',
  'math 𝐀𝐁𝐂 𝔸 ℕ ∞ ≠ ≤',
  'Ǆ ǅ ǆ Ĳ ĳ ŉ',
  'ḱ̃ stacked ậ diacritics',
  'roman Ⅻ ⅻ circled ① ⑳ ㊿ ⑴ ⒜',
  'provide a caption for images containing a bowl. the caption of a red basket',
];
const fixture = join(here, '../../../../../../shared/fixtures/real-exports/t5-tiny/tokenizer.json');
const json = JSON.parse(readFileSync(fixture, 'utf8'));
json.normalizer = {
  type: 'Sequence',
  normalizers: [
    { type: 'Precompiled', precompiled_charsmap: charsmap.toString('base64') },
    { type: 'Replace', pattern: { String: ' {2,}' }, content: ' ' },
  ],
};
const tokenizer = hf.Tokenizer.fromString(JSON.stringify(json));
const rows = [];
for (const text of texts) {
  const encoding = await tokenizer.encode(text);
  rows.push({ text, normalized: normalizer.normalizeString(text), ids: encoding.getIds() });
}
const out = { tokenizers: load('tokenizers/package.json').version, checked, map, texts: rows };
writeFileSync(join(here, 't5-normaliser-reference.json'), `${JSON.stringify(out)}\n`);
console.log(`${checked} code points, ${Object.keys(map).length} changed; ${rows.length} texts`);
