import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Tensor } from '@diffedit/core';
import type { RunEvent } from '@diffedit/core';
import { createRuntime } from '@diffedit/runtime';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  decodeImage,
  maskForLatents,
  meanOverPrompts,
  readPngTextChunks,
  readWorkflowFromPng,
} from '@diffedit/nodes';
import { workflowDoc } from './workflow-doc.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'image-nodes-'));
});

async function writeFlatPng(
  name: string,
  rgb: [number, number, number],
  width = 20,
  height = 12,
): Promise<void> {
  const raw = Buffer.alloc(width * height * 3);
  for (let p = 0; p < width * height; p++) raw.set(rgb, p * 3);
  await sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(join(dir, name));
}

const doc = (nodes: unknown[], edges: [string, string, string, string][]) =>
  workflowDoc('image nodes', nodes, edges);

const loadAndSave = (file: string, extra: Record<string, unknown> = {}) =>
  doc(
    [
      { id: 'load', type: 'LoadImage', params: { image: file, ...extra } },
      { id: 'save', type: 'SaveImage', params: { filename_prefix: 'out' } },
    ],
    [['load', 'image', 'save', 'image']],
  );

describe('LoadImage', () => {
  it('floors the size to multiples of 8 and reports it', async () => {
    await writeFlatPng('flat.png', [255, 0, 0]);
    const runtime = createRuntime({ inputsDir: dir, modelsDir: dir });
    const result = await runtime.run(loadAndSave('flat.png'));
    expect(result.status).toBe('done');
    expect(result.outputs.load).toMatchObject({ width: 16, height: 8 });
    expect((result.outputs.load.image as Tensor).dims).toEqual([1, 3, 8, 16]);
  });

  it('refuses a size below 8 on its own field', async () => {
    await writeFlatPng('flat.png', [255, 0, 0]);
    const runtime = createRuntime({ inputsDir: dir, modelsDir: dir });
    const result = await runtime.run(loadAndSave('flat.png', { height: 4 }));
    expect(result.error).toMatchObject({ nodeId: 'load', field: 'height' });
    expect(result.error?.message).toMatch(/LoadImage: height 4 is below 8/);
  });

  it('re-runs when the file content changes (content hash in the cache key), not otherwise', async () => {
    await writeFlatPng('changing.png', [10, 20, 30]);
    const runtime = createRuntime({ inputsDir: dir, modelsDir: dir });
    const started = async () => {
      const events: RunEvent[] = [];
      const result = await runtime.run(loadAndSave('changing.png'), { onEvent: (e) => events.push(e) });
      expect(result.status).toBe('done');
      return { ran: events.flatMap((e) => (e.type === 'node:start' ? [e.nodeId] : [])), result };
    };
    expect((await started()).ran).toEqual(['load', 'save']);
    expect((await started()).ran).toEqual([]);
    await writeFlatPng('changing.png', [200, 20, 30]);
    const third = await started();
    expect(third.ran).toEqual(['load', 'save']);
    expect(Math.round((third.result.outputs.load.image as Tensor).data[0] * 255)).toBe(200);
  });
});

describe('SaveImage', () => {
  it('embeds the workflow and the resolved params as PNG text', async () => {
    await writeFlatPng('save.png', [0, 128, 255], 8, 8);
    const runtime = createRuntime({ inputsDir: dir, modelsDir: dir });
    const result = await runtime.run(loadAndSave('save.png'));
    expect(result.artifacts.map((a) => a.name)).toEqual(['out.png']);
    const texts = readPngTextChunks(result.artifacts[0].bytes);
    expect(readWorkflowFromPng(result.artifacts[0].bytes)).toEqual(JSON.parse(texts.workflow));
    const restored = runtime.validate(readWorkflowFromPng(result.artifacts[0].bytes));
    expect(restored.ok).toBe(true);
    const workflow = JSON.parse(texts.workflow) as {
      nodes: { id: string; params: Record<string, unknown> }[];
    };
    expect(workflow.nodes.map((n) => n.id)).toEqual(['load', 'save']);
    // defaults are filled in (resolved), so the PNG documents every setting
    expect(workflow.nodes[0].params).toMatchObject({ image: 'save.png', width: 0, height: 0 });
    const pixels = await decodeImage(result.artifacts[0].bytes, {}, 'out.png');
    expect(Math.round(pixels.data[2] * 255)).toBe(255);
  });

  it('saves the same pixels at every compress_level (default 4), smaller files at higher levels', async () => {
    // gradients and a xor pattern: something zlib's levels compress differently
    const [width, height] = [160, 120];
    const raw = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        raw.set([(x * 3) & 255, (y >> 2) * 8, x < width / 2 ? 40 : ((x ^ y) * 3) & 255], (y * width + x) * 3);
      }
    }
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .png()
      .toFile(join(dir, 'levels.png'));
    const runtime = createRuntime({ inputsDir: dir, modelsDir: dir });
    const saved = async (level?: number) => {
      const workflow = loadAndSave('levels.png');
      if (level !== undefined)
        (workflow.nodes[1] as { params: Record<string, unknown> }).params.compress_level = level;
      const result = await runtime.run(workflow);
      expect(result.status, JSON.stringify(result.error)).toBe('done');
      const bytes = result.artifacts[0].bytes;
      const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([width, height, 3]);
      return { bytes, pixels: data, params: JSON.parse(readPngTextChunks(bytes).workflow) as unknown };
    };
    const byDefault = await saved();
    expect(byDefault.pixels.equals(raw)).toBe(true);
    // the resolved level is written into the PNG's workflow
    expect(byDefault.params).toMatchObject({ nodes: [{}, { params: { compress_level: 4 } }] });
    const sizes: number[] = [];
    for (let level = 0; level <= 9; level++) {
      const file = await saved(level);
      expect(file.pixels.equals(raw), `level ${level}`).toBe(true);
      sizes.push(file.bytes.length);
      if (level === 4) expect(Buffer.from(file.bytes).equals(Buffer.from(byDefault.bytes))).toBe(true);
    }
    // the level reaches zlib: 0 stores the rows as they are, 1 packs them, 9 packs them tighter
    expect(sizes[0]).toBeGreaterThan(width * height * 3);
    expect(sizes[1]).toBeLessThan(sizes[0]);
    expect(sizes[9]).toBeLessThan(sizes[1]);
  });

  it('refuses a compress_level outside 0–9 or not whole, naming node and field', async () => {
    const runtime = createRuntime({ inputsDir: dir, modelsDir: dir });
    for (const level of [-1, 10, 2.5]) {
      const bad = loadAndSave('save.png');
      (bad.nodes[1] as { params: Record<string, unknown> }).params.compress_level = level;
      const result = await runtime.run(bad);
      expect(result.status).toBe('invalid');
      expect(result.issues, String(level)).toEqual([
        expect.objectContaining({ nodeId: 'save', field: 'compress_level' }),
      ]);
      expect(result.artifacts).toEqual([]);
    }
  });

  it('rejects a prefix with a path in it, naming the field', async () => {
    const runtime = createRuntime({ inputsDir: dir, modelsDir: dir });
    const bad = loadAndSave('save.png');
    (bad.nodes[1] as { params: Record<string, unknown> }).params.filename_prefix = '../escape';
    const result = await runtime.run(bad);
    expect(result.error).toMatchObject({ nodeId: 'save', field: 'filename_prefix' });
  });
});

describe('ImageGrid, MaskToImage, LoadMask', () => {
  it('lays out images and mask displays; the cell count must match rows × cols', async () => {
    await writeFlatPng('a.png', [255, 0, 0], 16, 16);
    await writeFlatPng('b.png', [0, 0, 255], 16, 16);
    const mask = Buffer.alloc(4, 0);
    mask[1] = 255; // top-right latent cell
    await sharp(mask, { raw: { width: 2, height: 2, channels: 1 } })
      .png()
      .toFile(join(dir, 'mask.png'));
    const runtime = createRuntime({ inputsDir: dir, modelsDir: dir });
    const workflow = doc(
      [
        { id: 'a', type: 'LoadImage', params: { image: 'a.png' } },
        { id: 'b', type: 'LoadImage', params: { image: 'b.png' } },
        { id: 'mask', type: 'LoadMask', params: { mask: 'mask.png' } },
        { id: 'shown', type: 'MaskToImage', params: {} },
        { id: 'grid', type: 'ImageGrid', params: { rows: 1, cols: 3 } },
        { id: 'save', type: 'SaveImage', params: {} },
      ],
      [
        ['a', 'image', 'grid', 'a'],
        ['mask', 'mask', 'shown', 'mask'],
        ['a', 'image', 'shown', 'like'],
        ['shown', 'image', 'grid', 'b'],
        ['b', 'image', 'grid', 'c'],
        ['grid', 'image', 'save', 'image'],
      ],
    );
    const result = await runtime.run(workflow);
    expect(result.status, JSON.stringify(result.error)).toBe('done');
    const grid = result.outputs.grid.image as Tensor;
    expect(grid.dims).toEqual([1, 3, 16, 48]);
    const px = (x: number, y: number, c: number) => grid.data[c * 16 * 48 + y * 48 + x];
    expect([px(0, 0, 0), px(0, 0, 2)]).toEqual([1, 0]); // red cell
    expect([px(16 + 12, 2, 0), px(16 + 2, 2, 0), px(16 + 12, 12, 0)]).toEqual([1, 0, 0]); // mask: top-right white
    expect([px(40, 8, 0), px(40, 8, 2)]).toEqual([0, 1]); // blue cell

    const tooMany = structuredClone(workflow);
    (tooMany.nodes[4] as { params: Record<string, unknown> }).params.cols = 2;
    const failed = await runtime.run(tooMany);
    expect(failed.error).toMatchObject({ nodeId: 'grid', field: 'rows' });
  });
});

describe('LoadMask channels', () => {
  it('reads luminance by default, or the alpha channel either way round (ComfyUI: transparent = repaint)', async () => {
    // black everywhere; opaque left half, transparent right half
    const raw = Buffer.alloc(4 * 2 * 4);
    for (let p = 0; p < 8; p++) raw[p * 4 + 3] = p % 4 < 2 ? 255 : 0;
    await sharp(raw, { raw: { width: 4, height: 2, channels: 4 } })
      .png()
      .toFile(join(dir, 'alpha-mask.png'));
    const runtime = createRuntime({ inputsDir: dir, modelsDir: dir });
    const maskWith = async (channel?: string) => {
      const params = { mask: 'alpha-mask.png', ...(channel ? { channel } : {}) };
      const result = await runtime.run(doc([{ id: 'mask', type: 'LoadMask', params }], []), {
        targets: ['mask'],
      });
      expect(result.status, JSON.stringify(result.error)).toBe('done');
      return Array.from((result.outputs.mask.mask as Tensor).data);
    };
    expect(await maskWith()).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await maskWith('alpha')).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
    expect(await maskWith('transparency')).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
  });
});

describe('DiffEdit input helpers', () => {
  it('fits a mask of another size to the latent grid with nearest neighbour and binarises it', () => {
    const big = new Tensor(
      [1, 1, 4, 4],
      Float32Array.from([0, 0, 1, 1, 0, 0, 1, 1, 0.6, 0.6, 0.2, 0.2, 0.6, 0.6, 0.2, 0.2]),
    );
    expect(Array.from(maskForLatents(big, 2, 2).data)).toEqual([0, 1, 1, 0]);
    const same = new Tensor([1, 2, 2], Float32Array.from([0.49, 0.5, 1, 0]));
    expect(Array.from(maskForLatents(same, 2, 2).data)).toEqual([0, 1, 1, 0]);
  });

  it('averages a prompt list into one embedding', () => {
    const e = new Tensor([3, 2, 2], Float32Array.from([1, 2, 3, 4, 3, 2, 1, 0, 2, 2, 2, 2]));
    const mean = meanOverPrompts(e);
    expect(mean.dims).toEqual([1, 2, 2]);
    expect(Array.from(mean.data)).toEqual([2, 2, 2, 2]);
  });
});

describe('display images in the output cache', () => {
  it('keeps 8-bit images as bytes and serves the same pixels from the cache as the run made', async () => {
    const width = 96;
    const height = 64;
    const raw = Buffer.alloc(width * height * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 97 + 13) % 256; // every level, no flat runs
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .png()
      .toFile(join(dir, 'levels.png'));
    const runtime = createRuntime({ inputsDir: dir, modelsDir: dir });
    const workflow = (prefix: string) =>
      doc(
        [
          { id: 'load', type: 'LoadImage', params: { image: 'levels.png' } },
          { id: 'grid', type: 'ImageGrid', params: { rows: 1, cols: 2 } },
          { id: 'save', type: 'SaveImage', params: { filename_prefix: prefix } },
        ],
        [
          ['load', 'image', 'grid', 'a'],
          ['load', 'image', 'grid', 'b'],
          ['grid', 'image', 'save', 'image'],
        ],
      );
    const first = await runtime.run(workflow('first'));
    expect(first.status, JSON.stringify(first.error)).toBe('done');
    const values = (first.outputs.load.image as Tensor).size + (first.outputs.grid.image as Tensor).size;
    // the PNG's bytes may sit in Node's shared 8 KiB Buffer pool: the cache counts what it keeps alive
    const png = first.artifacts[0].bytes.buffer.byteLength;
    // one byte a value (plus dims, names and the PNG), not four
    expect(runtime.cache.stats().bytes).toBeLessThan(values + png + 1024);
    expect(runtime.cache.stats().bytes).toBeGreaterThanOrEqual(values + png);

    const cachedNodes: string[] = [];
    const second = await runtime.run(workflow('second'), {
      onEvent: (e: RunEvent) => {
        if (e.type === 'node:cached') cachedNodes.push(e.nodeId);
      },
    });
    expect(second.status).toBe('done');
    expect(cachedNodes).toEqual(['grid']);
    const before = first.outputs.grid.image as Tensor;
    const after = second.outputs.grid.image as Tensor;
    expect(after.data).toBeInstanceOf(Float32Array);
    expect(after.dims).toEqual(before.dims);
    expect(after.data).toEqual(before.data);
    const pixels = async (bytes: Uint8Array) => sharp(bytes).raw().toBuffer();
    expect(await pixels(second.artifacts[0].bytes)).toEqual(await pixels(first.artifacts[0].bytes));
    expect((await pixels(first.artifacts[0].bytes)).subarray(0, width * 3)).toEqual(
      raw.subarray(0, width * 3),
    );
  });
});
