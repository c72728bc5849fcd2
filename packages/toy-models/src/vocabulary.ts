/**
 * The toy world's words. Every word carries the id that CLIP's real BPE vocabulary gives it ("red</w>" = 736),
 * so the toy text encoder understands prompts tokenised by the toy tokenizer and by CLIP's own tokenizer alike.
 * Colours are RGB in [-1, 1] (the toy latent space).
 */
export type Rgb = readonly [number, number, number];

export const CLIP_BOS_ID = 49406;
export const CLIP_EOS_ID = 49407;
export const CLIP_MAX_LENGTH = 77;
export const BOS_TOKEN = '<|startoftext|>';
export const EOS_TOKEN = '<|endoftext|>';

/** The toy colours, RGB in [-1, 1]. */
export const TOY_COLOURS = {
  red: [1, -1, -1],
  green: [-1, 1, -1],
  blue: [-1, -1, 1],
  yellow: [1, 1, -1],
  white: [1, 1, 1],
  black: [-1, -1, -1],
  orange: [1, 0, -1],
  purple: [0, -1, 1],
  gray: [0, 0, 0],
  pink: [1, 0, 0.4],
  brown: [0.2, -0.4, -0.8],
  cyan: [-1, 1, 1],
  magenta: [1, -1, 1],
} as const satisfies Record<string, Rgb>;

export type ToyColourName = keyof typeof TOY_COLOURS;

interface Word {
  id: number;
}
interface ColourWord extends Word {
  colour: ToyColourName;
}

/** Colour words (synonyms map onto the same colour). 'cyan' is two BPE pieces in CLIP: it takes the first ('cy'). */
export const COLOUR_WORDS: Record<string, ColourWord> = {
  red: { id: 736, colour: 'red' },
  green: { id: 1901, colour: 'green' },
  blue: { id: 1746, colour: 'blue' },
  yellow: { id: 4481, colour: 'yellow' },
  white: { id: 1579, colour: 'white' },
  black: { id: 1449, colour: 'black' },
  orange: { id: 4287, colour: 'orange' },
  purple: { id: 5496, colour: 'purple' },
  violet: { id: 16118, colour: 'purple' },
  gray: { id: 7048, colour: 'gray' },
  grey: { id: 5046, colour: 'gray' },
  pink: { id: 3360, colour: 'pink' },
  brown: { id: 2866, colour: 'brown' },
  cyan: { id: 1470, colour: 'cyan' },
  magenta: { id: 38091, colour: 'magenta' },
};

/** Object nouns with their canonical colour ("an apple" is red unless a colour word says otherwise). */
export const OBJECT_WORDS: Record<string, ColourWord> = {
  apple: { id: 3055, colour: 'red' },
  apples: { id: 14032, colour: 'red' },
  strawberry: { id: 10233, colour: 'red' },
  strawberries: { id: 17796, colour: 'red' },
  cherry: { id: 7325, colour: 'red' },
  cherries: { id: 27248, colour: 'red' },
  tomato: { id: 9867, colour: 'red' },
  tomatoes: { id: 13004, colour: 'red' },
  pear: { id: 18820, colour: 'green' },
  pears: { id: 39565, colour: 'green' },
  lime: { id: 11193, colour: 'green' },
  cucumber: { id: 19787, colour: 'green' },
  broccoli: { id: 19094, colour: 'green' },
  banana: { id: 8922, colour: 'yellow' },
  bananas: { id: 19121, colour: 'yellow' },
  lemon: { id: 7184, colour: 'yellow' },
  lemons: { id: 29576, colour: 'yellow' },
  grape: { id: 15959, colour: 'purple' },
  grapes: { id: 18580, colour: 'purple' },
  plum: { id: 16202, colour: 'purple' },
  eggplant: { id: 34906, colour: 'purple' },
  carrot: { id: 15435, colour: 'orange' },
  carrots: { id: 19299, colour: 'orange' },
  pumpkin: { id: 8842, colour: 'orange' },
  blueberry: { id: 18251, colour: 'blue' },
  blueberries: { id: 29551, colour: 'blue' },
  coconut: { id: 9581, colour: 'brown' },
};

/**
 * Nouns that name what an object stands on or in front of: a content word followed by one of these
 * ("a blue background", "a white wooden table") describes the scene, not the object.
 */
export const BACKGROUND_WORDS: Record<string, Word> = {
  background: { id: 5994 },
  backdrop: { id: 20802 },
  wall: { id: 2569 },
  floor: { id: 4125 },
  table: { id: 2175 },
  surface: { id: 7744 },
  ground: { id: 2461 },
  cloth: { id: 14559 },
  paper: { id: 2802 },
  sky: { id: 2390 },
  grass: { id: 5922 },
  plate: { id: 5135 },
  board: { id: 1972 },
  carpet: { id: 6922 },
  rug: { id: 19220 },
  canvas: { id: 7483 },
  field: { id: 1570 },
  counter: { id: 7352 },
};

/** Words that may stand between a colour and a background noun ("a blue wooden table"). */
export const MODIFIER_WORDS: Record<string, Word> = {
  wooden: { id: 9057 },
  wood: { id: 1704 },
  dark: { id: 3144 },
  light: { id: 1395 },
  plain: { id: 10709 },
  solid: { id: 6148 },
  pale: { id: 12518 },
  bright: { id: 4852 },
  deep: { id: 3383 },
  textured: { id: 32168 },
  painted: { id: 6433 },
  smooth: { id: 8990 },
  simple: { id: 4129 },
  marble: { id: 13071 },
  colored: { id: 11775 },
  coloured: { id: 17111 },
};

/** Neutral words: known to the tokenizer, no effect on the concept. */
export const NEUTRAL_WORDS: Record<string, Word> = {
  ball: { id: 1069 },
  balls: { id: 6927 },
  cube: { id: 11353 },
  box: { id: 2063 },
  circle: { id: 7117 },
  square: { id: 3999 },
  triangle: { id: 14615 },
  disc: { id: 10712 },
  disk: { id: 17970 },
  sphere: { id: 6987 },
  star: { id: 1565 },
  block: { id: 4593 },
  shape: { id: 6448 },
  object: { id: 14115 },
  toy: { id: 5988 },
  balloon: { id: 13634 },
  fruit: { id: 5190 },
  fruits: { id: 13282 },
  a: { id: 320 },
  an: { id: 550 },
  the: { id: 518 },
  of: { id: 539 },
  photo: { id: 1125 },
  photograph: { id: 8853 },
  image: { id: 2867 },
  picture: { id: 1674 },
  on: { id: 525 },
  with: { id: 593 },
  in: { id: 530 },
  and: { id: 537 },
  bowl: { id: 3814 },
  basket: { id: 10338 },
  is: { id: 533 },
  there: { id: 997 },
  this: { id: 589 },
  at: { id: 536 },
  top: { id: 1253 },
  front: { id: 2184 },
  some: { id: 836 },
  one: { id: 637 },
  two: { id: 1237 },
  three: { id: 2097 },
  close: { id: 2660 },
  up: { id: 705 },
  sitting: { id: 4919 },
  lying: { id: 7175 },
  resting: { id: 18044 },
  single: { id: 2688 },
  small: { id: 2442 },
  big: { id: 1205 },
  large: { id: 3638 },
  round: { id: 2522 },
  ',': { id: 267 },
  '.': { id: 269 },
};

/** Every word of the toy tokenizer with its id (special tokens excluded). */
export function toyVocabulary(): Map<string, number> {
  const vocab = new Map<string, number>();
  for (const table of [COLOUR_WORDS, OBJECT_WORDS, BACKGROUND_WORDS, MODIFIER_WORDS, NEUTRAL_WORDS]) {
    for (const [word, { id }] of Object.entries(table)) {
      if (vocab.has(word)) throw new Error(`toy vocabulary: '${word}' is listed twice`);
      vocab.set(word, id);
    }
  }
  const ids = new Set(vocab.values());
  if (ids.size !== vocab.size) throw new Error('toy vocabulary: two words share an id');
  return vocab;
}
