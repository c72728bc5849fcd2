import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { applyOverrides, createFsFingerprinter, parseOverride, UsageError } from '@diffedit/runtime';

let dir: string;
const signal = new AbortController().signal;
const where = { nodeId: 'n', param: 'p', signal };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffedit-fp-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createFsFingerprinter', () => {
  const fingerprint = createFsFingerprinter({
    resolveFile: (value) => join(dir, value),
    resolveModel: (value) => join(dir, 'models', value),
  });

  it('hashes file content: same bytes give the same fingerprint, new bytes a new one', async () => {
    await writeFile(join(dir, 'a.txt'), 'one');
    await writeFile(join(dir, 'b.txt'), 'one');
    const a = await fingerprint('file', 'a.txt', where);
    expect(a).toBe('sha256:7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed');
    expect(await fingerprint('file', 'b.txt', where)).toBe(a);
    await writeFile(join(dir, 'a.txt'), 'two');
    await utimes(join(dir, 'a.txt'), new Date(), new Date(Date.now() + 5000));
    expect(await fingerprint('file', 'a.txt', where)).not.toBe(a);
  });

  it('fails for a missing file', async () => {
    await expect(fingerprint('file', 'missing.png', where)).rejects.toThrow('ENOENT');
  });

  it('describes a model folder by its files, sizes and mtimes', async () => {
    const model = join(dir, 'models', 'toy');
    await mkdir(join(model, 'unet'), { recursive: true });
    await writeFile(join(model, 'unet', 'model.onnx'), 'weights');
    await writeFile(join(model, 'config.json'), '{}');
    const before = await fingerprint('model', 'toy', where);
    expect(await fingerprint('model', 'toy', where)).toBe(before);
    await writeFile(join(model, 'unet', 'model.onnx'), 'new weights');
    const after = await fingerprint('model', 'toy', where);
    expect(after).not.toBe(before);
    await writeFile(join(model, 'extra.bin'), '');
    expect(await fingerprint('model', 'toy', where)).not.toBe(after);
  });
});

describe('--set overrides', () => {
  it('parses values as JSON when possible, else as strings', () => {
    expect(parseOverride('seed.value=42')).toEqual({ nodeId: 'seed', param: 'value', value: 42, text: '42' });
    expect(parseOverride('a.flag=true')).toMatchObject({ nodeId: 'a', param: 'flag', value: true });
    expect(parseOverride('p.text=a cat = fluffy')).toMatchObject({
      nodeId: 'p',
      param: 'text',
      value: 'a cat = fluffy',
    });
    expect(parseOverride('p.text="42"')).toEqual({ nodeId: 'p', param: 'text', value: '42', text: '"42"' });
    expect(() => parseOverride('p=1')).toThrow(UsageError);
    expect(() => parseOverride('p.x')).toThrow('--set expects NODE.PARAM=VALUE');
  });

  it('returns a modified copy and names unknown nodes', () => {
    const doc = { nodes: [{ id: 'p', type: 'Text', params: { text: 'a' } }] };
    const changed = applyOverrides(doc, [{ nodeId: 'p', param: 'text', value: 'b' }]) as typeof doc;
    expect(changed.nodes[0].params.text).toBe('b');
    expect(doc.nodes[0].params.text).toBe('a');
    expect(() => applyOverrides(doc, [{ nodeId: 'q', param: 'x', value: 1 }])).toThrow("no node 'q'");
  });

  it('keeps the typed text for text-like params when the catalog says so', () => {
    const doc = { nodes: [{ id: 'p', type: 'Text', params: {} }, null] };
    const kindOf = (type: string, param: string) => (type === 'Text' && param === 'text' ? 'text' : 'int');
    const set = (assignment: string) =>
      (applyOverrides(doc, [parseOverride(assignment)], kindOf) as { nodes: { params: object }[] }).nodes[0]
        .params;
    expect(set('p.text=42')).toEqual({ text: '42' });
    expect(set('p.text=[1, 2]')).toEqual({ text: '[1, 2]' });
    expect(set('p.text="quoted"')).toEqual({ text: 'quoted' });
    expect(set('p.other=42')).toEqual({ other: 42 });
    expect(() => applyOverrides(null, [parseOverride('p.text=1')])).toThrow('no "nodes" array');
  });
});
