import { TOY_COLOURS } from '../vocabulary.js';
import type { Rgb, ToyColourName } from '../vocabulary.js';

/** A toy colour in both conventions: `signed` in [-1, 1] (VAE / latent space), `unit` in [0, 1] (images). */
export interface SceneColour {
  readonly name: ToyColourName;
  readonly signed: Rgb;
  readonly unit: Rgb;
}

const toUnit = (c: Rgb): Rgb => [(c[0] + 1) / 2, (c[1] + 1) / 2, (c[2] + 1) / 2];

/** The colour table of the scene generator (the toy world's colours). */
export const SCENE_COLOURS: Readonly<Record<ToyColourName, SceneColour>> = Object.fromEntries(
  (Object.keys(TOY_COLOURS) as ToyColourName[]).map((name) => [
    name,
    { name, signed: TOY_COLOURS[name], unit: toUnit(TOY_COLOURS[name]) },
  ]),
) as Record<ToyColourName, SceneColour>;

export function sceneColour(name: string): SceneColour {
  const colour = (SCENE_COLOURS as Record<string, SceneColour | undefined>)[name];
  if (!colour) {
    throw new Error(`unknown scene colour '${name}' (known: ${Object.keys(SCENE_COLOURS).join(', ')})`);
  }
  return colour;
}

/** Euclidean distance of two colours in [-1, 1] space (the behaviour contract asks ≥ 2 from the background). */
export function colourDistance(a: ToyColourName, b: ToyColourName): number {
  const x = TOY_COLOURS[a];
  const y = TOY_COLOURS[b];
  return Math.hypot(x[0] - y[0], x[1] - y[1], x[2] - y[2]);
}
