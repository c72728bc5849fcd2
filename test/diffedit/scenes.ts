import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Tensor } from '@diffedit/core';
import { colourDistance, encodeScenePng, generateScene, SCENE_COLOURS } from '@diffedit/toy-models';
import type { Scene, ShapeKind, ToyColourName } from '@diffedit/toy-models';

export interface EditCase {
  file: string;
  scene: Scene;
  source: ToyColourName;
  target: ToyColourName;
  background: ToyColourName;
}

/** object, background, target, shape — every colour ≥ 2.0 from the background (toy-world.md contract). */
const CASES: [ToyColourName, ToyColourName, ToyColourName, ShapeKind][] = [
  ['red', 'blue', 'green', 'circle'],
  ['green', 'black', 'yellow', 'ellipse'],
  ['yellow', 'purple', 'cyan', 'square'],
  ['white', 'red', 'cyan', 'triangle'],
  ['blue', 'yellow', 'magenta', 'diamond'],
  ['orange', 'cyan', 'purple', 'circle'],
  ['cyan', 'red', 'white', 'square'],
  ['magenta', 'green', 'blue', 'ellipse'],
  ['black', 'white', 'red', 'circle'],
  ['purple', 'yellow', 'black', 'diamond'],
];

/** Writes the contract's scenes as PNGs into `dir` (256², radius 40–56 px ≥ side/10). */
export async function writeEditCases(dir: string, size = 256): Promise<EditCase[]> {
  const cases: EditCase[] = [];
  for (const [i, [object, background, target, shape]] of CASES.entries()) {
    for (const c of [object, target]) {
      if (colourDistance(c, background) < 2)
        throw new Error(`scene ${i}: ${c} is too close to ${background}`);
    }
    const scene = generateScene({
      object,
      background,
      shape,
      width: size,
      height: size,
      radius: 40 + 2 * i,
      seed: 100 + i,
    });
    const file = `scene-${i}-${object}-${shape}-on-${background}.png`;
    writeFileSync(join(dir, file), await encodeScenePng(scene));
    cases.push({ file, scene, source: object, target, background });
  }
  return cases;
}

export function iou(mask: Tensor, footprint: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < footprint.length; i++) {
    const a = mask.data[i] >= 0.5;
    const b = footprint[i] === 1;
    if (a && b) inter++;
    if (a || b) union++;
  }
  return union === 0 ? 1 : inter / union;
}

/** Mean signed colour ([-1, 1]) of an IMAGE [1,3,H,W] over the pixels where `where` is 1. */
export function meanSignedColour(image: Tensor, where: Uint8Array): [number, number, number] {
  const plane = image.dims[2] * image.dims[3];
  const sum = [0, 0, 0];
  let count = 0;
  for (let p = 0; p < plane; p++) {
    if (where[p] !== 1) continue;
    count++;
    for (let c = 0; c < 3; c++) sum[c] += image.data[c * plane + p] * 2 - 1;
  }
  return sum.map((s) => s / count) as [number, number, number];
}

export function distanceToColour(rgb: readonly number[], colour: ToyColourName): number {
  const c = SCENE_COLOURS[colour].signed;
  return Math.hypot(rgb[0] - c[0], rgb[1] - c[1], rgb[2] - c[2]);
}

/** Mean |a − b| over the pixels (all channels) where the latent mask, upscaled ×f, is 0. */
export function meanAbsOutsideMask(a: Tensor, b: Tensor, latentMask: Tensor): number {
  const [, , h, w] = a.dims;
  const [, , mh, mw] = latentMask.dims;
  const plane = h * w;
  let sum = 0;
  let count = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const m = latentMask.data[Math.floor((y * mh) / h) * mw + Math.floor((x * mw) / w)];
      if (m >= 0.5) continue;
      for (let c = 0; c < 3; c++)
        sum += Math.abs(a.data[c * plane + y * w + x] - b.data[c * plane + y * w + x]);
      count += 3;
    }
  }
  return sum / count;
}
