import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  colourDistance,
  DEMO_SCENES,
  generateScene,
  latentFootprint,
  SCENE_COLOURS,
  sceneColour,
  sceneToSignedChw,
  sceneToUint8,
  SHAPE_KINDS,
} from '../../src/scenes/index.js';

describe('scene generator', () => {
  it('draws the object colour on its footprint and the background colour elsewhere', () => {
    const scene = generateScene({
      object: 'red',
      background: 'blue',
      shape: 'circle',
      width: 64,
      height: 48,
      radius: 10,
      centre: [30, 20],
    });
    expect(scene.rgb.length).toBe(64 * 48 * 3);
    let inside = 0;
    for (let y = 0; y < 48; y++) {
      for (let x = 0; x < 64; x++) {
        const p = y * 64 + x;
        const isIn = (x + 0.5 - 30) ** 2 + (y + 0.5 - 20) ** 2 < 100;
        expect(scene.mask[p]).toBe(isIn ? 1 : 0);
        const expected = isIn ? [1, 0, 0] : [0, 0, 1];
        expect([...scene.rgb.subarray(p * 3, p * 3 + 3)]).toEqual(expected);
        inside += scene.mask[p];
      }
    }
    expect(inside).toBeGreaterThan(Math.PI * 100 * 0.9);
    expect(inside).toBeLessThan(Math.PI * 100 * 1.1);
  });

  it('is reproducible from its seed, and different seeds differ', () => {
    const a = generateScene({
      object: 'green',
      background: 'black',
      width: 128,
      height: 128,
      texture: 0.05,
      seed: 9,
    });
    const b = generateScene({
      object: 'green',
      background: 'black',
      width: 128,
      height: 128,
      texture: 0.05,
      seed: 9,
    });
    const c = generateScene({
      object: 'green',
      background: 'black',
      width: 128,
      height: 128,
      texture: 0.05,
      seed: 10,
    });
    expect(a.rgb).toEqual(b.rgb);
    expect(a.spec).toEqual(b.spec);
    expect(c.rgb).not.toEqual(a.rgb);
  });

  it('keeps random objects inside the image, away from the border, and sized ≥ side/10', () => {
    for (let seed = 0; seed < 40; seed++) {
      const s = generateScene({ object: 'white', background: 'red', width: 256, height: 256, seed });
      expect(SHAPE_KINDS).toContain(s.spec.shape);
      expect(s.spec.radius).toBeGreaterThanOrEqual(25);
      for (let x = 0; x < 256; x++) {
        for (const y of [0, 1, 255]) expect(s.mask[y * 256 + x]).toBe(0);
        expect(s.mask[x * 256]).toBe(0);
        expect(s.mask[x * 256 + 255]).toBe(0);
      }
      expect(s.mask.reduce((n, v) => n + v, 0)).toBeGreaterThan(0.3 * s.spec.radius ** 2);
    }
  });

  it('the latent footprint is the majority vote of 8×8 blocks', () => {
    const mask = new Uint8Array(16 * 8);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) mask[y * 16 + x] = y < 5 ? 1 : 0; // 40 of 64
    for (let y = 0; y < 4; y++) for (let x = 8; x < 16; x++) mask[y * 16 + x] = 1; // exactly 32 of 64
    expect([...latentFootprint(mask, 16, 8)]).toEqual([1, 0]);
    const scene = generateScene({
      object: 'yellow',
      background: 'purple',
      shape: 'square',
      width: 64,
      height: 64,
      radius: 20,
      centre: [32, 32],
    });
    // The square spans pixels 14..49: blocks 2..5 are fully inside, blocks 1 and 6 hold 2/8 of a row.
    const expected = Array.from({ length: 64 }, (_, i) => {
      const [by, bx] = [Math.floor(i / 8), i % 8];
      return by >= 2 && by <= 5 && bx >= 2 && bx <= 5 ? 1 : 0;
    });
    expect([...scene.latentMask]).toEqual(expected);
  });

  it('converts to 8-bit HWC and to signed CHW', () => {
    const s = generateScene({
      object: 'orange',
      background: 'gray',
      shape: 'diamond',
      width: 32,
      height: 32,
      radius: 6,
      centre: [16, 16],
    });
    const bytes = sceneToUint8(s);
    expect([...bytes.subarray(0, 3)]).toEqual([128, 128, 128]);
    const p = 16 * 32 + 16;
    expect([...bytes.subarray(p * 3, p * 3 + 3)]).toEqual([255, 128, 0]);
    const chw = sceneToSignedChw(s);
    expect([chw[p], chw[1024 + p], chw[2048 + p]]).toEqual([1, 0, -1]);
  });

  it('exports the colour table in both ranges and rejects unknown names', () => {
    expect(SCENE_COLOURS.purple.signed).toEqual([0, -1, 1]);
    expect(SCENE_COLOURS.purple.unit).toEqual([0.5, 0, 1]);
    expect(colourDistance('red', 'blue')).toBeCloseTo(Math.SQRT2 * 2, 10);
    expect(() => sceneColour('mauve')).toThrow(/unknown scene colour 'mauve'/);
    expect(() => generateScene({ object: 'red', background: 'blue', width: 100 })).toThrow(/multiple of 8/);
  });
});

describe('demo assets (workflows/assets)', () => {
  for (const [name, spec] of Object.entries(DEMO_SCENES)) {
    it(`${name} decodes to exactly the regenerated scene`, async () => {
      const file = await readFile(new URL(`../../../../workflows/assets/${name}`, import.meta.url));
      const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const scene = generateScene(spec);
      expect([info.width, info.height, info.channels]).toEqual([scene.width, scene.height, 3]);
      expect(Buffer.from(sceneToUint8(scene)).equals(data)).toBe(true);
      expect(colourDistance(spec.object, spec.background)).toBeGreaterThanOrEqual(2);
    });
  }
});
