import { TOY_COLOURS } from '../vocabulary.js';
import type { Rgb, ToyColourName } from '../vocabulary.js';

/** The colours the toy BLIP names, with their RGB in [-1, 1]: the toy world's palette. */
export const BLIP_COLOUR_NAMES = Object.keys(TOY_COLOURS) as ToyColourName[];

export function blipColourRgb(name: ToyColourName): Rgb {
  return TOY_COLOURS[name];
}
