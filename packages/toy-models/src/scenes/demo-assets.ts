import sharp from 'sharp';
import { sceneToUint8 } from './scene.js';
import type { Scene, SceneSpec } from './scene.js';

/** The demo input images in workflows/assets/, each regenerated from its spec. */
export const DEMO_SCENES: Readonly<Record<string, SceneSpec>> = {
  'red-apple-on-blue.png': {
    object: 'red',
    background: 'blue',
    shape: 'circle',
    radius: 120,
    centre: [256, 270],
  },
  'green-pear-on-black.png': {
    object: 'green',
    background: 'black',
    shape: 'ellipse',
    radius: 110,
    centre: [240, 256],
    texture: 0.04,
    seed: 2,
  },
  'yellow-square-on-purple.png': {
    object: 'yellow',
    background: 'purple',
    shape: 'square',
    radius: 90,
    seed: 3,
  },
  'white-triangle-on-red.png': {
    object: 'white',
    background: 'red',
    shape: 'triangle',
    radius: 100,
    seed: 4,
  },
};

export async function encodeScenePng(scene: Scene): Promise<Buffer> {
  return sharp(Buffer.from(sceneToUint8(scene)), {
    raw: { width: scene.width, height: scene.height, channels: 3 },
  })
    .png({ compressionLevel: 9 })
    .toBuffer();
}
