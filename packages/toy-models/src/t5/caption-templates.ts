import { t5WordId } from './t5-tokenizer-json.js';

/** Marks the article in front of the concept: "a" or "an" depending on the concept's first letter. */
export const ARTICLE = '<article>';

/**
 * One caption shape of the toy Flan-T5: words before the concept, the concept (copied whole from the
 * instruction), words after it. Weights are the prior of each shape; they differ so that greedy decoding is
 * deterministic and are close enough that sampling at temperature 0.8 visits many of them. No word here is a
 * colour or an object (a caption must keep the concept it was asked for).
 */
export interface CaptionTemplate {
  readonly before: readonly string[];
  readonly after: readonly string[];
  readonly weight: number;
}

export const CAPTION_TEMPLATES: readonly CaptionTemplate[] = [
  { before: ['a', 'photo', 'of', ARTICLE], after: [], weight: 0.22 },
  { before: [ARTICLE], after: ['on', 'a', 'wooden', 'table'], weight: 0.18 },
  { before: ['a', 'close-up', 'of', ARTICLE], after: [], weight: 0.15 },
  { before: [ARTICLE], after: ['in', 'a', 'bowl'], weight: 0.13 },
  { before: ['a', 'picture', 'of', ARTICLE], after: ['on', 'the', 'table'], weight: 0.12 },
  { before: [ARTICLE], after: ['in', 'a', 'basket'], weight: 0.1 },
  { before: ['a', 'single'], after: ['on', 'a', 'wooden', 'table'], weight: 0.1 },
];

/** Id placeholder for ARTICLE in the template tables (never a real piece id). */
export const ARTICLE_PLACEHOLDER = -1;

export interface TemplateTables {
  readonly count: number;
  /** Longest `before` / `after` list (tables are padded to these widths). */
  readonly maxBefore: number;
  readonly maxAfter: number;
  /** [count × maxBefore] and [count × maxAfter] piece ids, row-major, padded with 0. */
  readonly before: number[];
  readonly after: number[];
  readonly beforeLength: number[];
  readonly afterLength: number[];
  readonly weight: number[];
}

/** The templates as flat id tables for the decoder graph. */
export function templateTables(templates: readonly CaptionTemplate[] = CAPTION_TEMPLATES): TemplateTables {
  const idOf = (word: string): number => (word === ARTICLE ? ARTICLE_PLACEHOLDER : t5WordId(word));
  const maxBefore = Math.max(1, ...templates.map((t) => t.before.length));
  const maxAfter = Math.max(1, ...templates.map((t) => t.after.length));
  const pad = (words: readonly string[], width: number): number[] => [
    ...words.map(idOf),
    ...new Array<number>(width - words.length).fill(0),
  ];
  return {
    count: templates.length,
    maxBefore,
    maxAfter,
    before: templates.flatMap((t) => pad(t.before, maxBefore)),
    after: templates.flatMap((t) => pad(t.after, maxAfter)),
    beforeLength: templates.map((t) => t.before.length),
    afterLength: templates.map((t) => t.after.length),
    weight: templates.map((t) => t.weight),
  };
}
