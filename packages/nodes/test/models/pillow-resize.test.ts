import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pillowResize } from '../../src/models/pillow-resize.js';
import type { PillowFilter } from '../../src/models/pillow-resize.js';

// Pillow's own Image.resize output (data/pillow_resize_reference.py), which transformers' BLIP processor uses.
const reference = JSON.parse(
  readFileSync(join(import.meta.dirname, 'data', 'pillow-resize-reference.json'), 'utf8'),
) as {
  pillow: string;
  stride: number;
  cases: {
    width: number;
    height: number;
    outWidth: number;
    outHeight: number;
    filter: PillowFilter;
    sha256: string;
    samples: number[];
  }[];
};

/** The reference script's synthetic image: ramps, noise and a checkerboard (integer arithmetic only). */
export function syntheticRgb(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const noise = ((x * 7919 + y * 104729) % 41) - 20;
      const checker = (Math.floor(x / 7) + Math.floor(y / 9)) % 2 === 0 ? 230 : 20;
      const rgb = [
        Math.floor((x * 255) / (width - 1)) + noise,
        Math.floor((y * 255) / (height - 1)) - noise,
        checker + noise,
      ];
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.min(255, Math.max(0, rgb[c]));
    }
  }
  return data;
}

describe(`pillowResize against Pillow ${reference.pillow}`, () => {
  it.each(
    reference.cases.map((c) => [`${c.width}×${c.height} → ${c.outWidth}×${c.outHeight} ${c.filter}`, c]),
  )('%s: byte for byte', (_, c) => {
    const image = { width: c.width, height: c.height, data: syntheticRgb(c.width, c.height) };
    const out = pillowResize(image, c.outWidth, c.outHeight, c.filter);
    const samples: number[] = [];
    for (let y = 0; y < c.outHeight; y += reference.stride) {
      for (let x = 0; x < c.outWidth; x += reference.stride) {
        for (let ch = 0; ch < 3; ch++) samples.push(out.data[(y * c.outWidth + x) * 3 + ch]);
      }
    }
    expect(samples).toEqual(c.samples);
    expect(createHash('sha256').update(out.data).digest('hex')).toBe(c.sha256);
  });
});
