import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pillowResize } from '../../src/models/pillow-resize.js';
import type { PillowFilter } from '../../src/models/pillow-resize.js';
import { syntheticRgb } from './synthetic-image.js';

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
