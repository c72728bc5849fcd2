/**
 * The toy world's colour and object words, as the toy SD text encoder reads them (toy-world.md, "Colours and
 * words"). The toy Flan-T5 keeps them as whole pieces so that a concept such as "red apple" is found and copied
 * token for token; the caption grammar itself never uses them (a caption must not change the concept).
 */
export const TOY_COLOUR_WORDS = [
  'red',
  'green',
  'blue',
  'yellow',
  'white',
  'black',
  'orange',
  'purple',
  'gray',
  'grey',
  'pink',
  'brown',
  'cyan',
  'magenta',
] as const;

export const TOY_OBJECT_WORDS = [
  'apple',
  'pear',
  'banana',
  'lemon',
  'grape',
  'plum',
  'orange',
  'strawberry',
  'cherry',
  'tomato',
  'lime',
  'blueberry',
  'ball',
  'cube',
  'circle',
  'square',
] as const;

/** Colour and object words without repeats ("orange" is both), in a fixed order. */
export function toyContentWords(): string[] {
  return [...new Set<string>([...TOY_COLOUR_WORDS, ...TOY_OBJECT_WORDS])];
}
