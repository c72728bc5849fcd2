import { COLOUR_WORDS, OBJECT_WORDS } from '../vocabulary.js';

/**
 * The toy world's colour and object words, exactly those the toy SD text encoder reads as content
 * (toy-world/vocabulary.ts). The toy Flan-T5 keeps them as whole pieces so that a concept such as "red apple"
 * is found and copied token for token; its caption grammar never uses them (a caption must keep its concept).
 */
export const TOY_COLOUR_WORDS: readonly string[] = Object.keys(COLOUR_WORDS);
export const TOY_OBJECT_WORDS: readonly string[] = Object.keys(OBJECT_WORDS);

/** Neutral nouns that still name the thing in a picture ("a red ball"): part of a concept, not of its colour. */
export const TOY_SHAPE_NOUNS: readonly string[] = [
  'ball',
  'cube',
  'circle',
  'square',
  'triangle',
  'ellipse',
  'diamond',
  'sphere',
  'box',
  'shape',
  'object',
];

/** Words that make up a concept when the instruction has no "containing …" phrase, without repeats. */
export function toyContentWords(): string[] {
  return [...new Set<string>([...TOY_COLOUR_WORDS, ...TOY_OBJECT_WORDS, ...TOY_SHAPE_NOUNS])];
}
