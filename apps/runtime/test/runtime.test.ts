import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { defineNode, InputsFolderKey } from '@diffedit/core';
import type { RunEvent } from '@diffedit/core';
import { createNodeCatalog } from '@diffedit/nodes';
import { artifactFileNames, createRuntime } from '@diffedit/runtime';

let dir: string;
let reads = 0;

// Reads its file through the InputsFolder service, as LoadImage does.
const ReadText = defineNode({
  type: 'TestReadText',
  version: 1,
  title: 'Read text',
  category: 'test',
  description: 'reads a text file from the inputs folder',
  inputs: {},
  params: { file: { kind: 'file', default: 'note.txt' } },
  outputs: { text: { type: 'TEXT' } },
  async run(ctx, _inputs, params) {
    reads++;
    return { text: await readFile(ctx.services.get(InputsFolderKey).resolve(params.file), 'utf8') };
  },
});

const doc = {
  format: 'diffedit-studio.workflow',
  version: 1,
  name: 'read',
  nodes: [
    { id: 'read', type: 'TestReadText', params: { file: 'note.txt' } },
    { id: 'show', type: 'ShowValue', params: { filename: '' } },
  ],
  edges: [{ id: 'e', from: { node: 'read', output: 'text' }, to: { node: 'show', input: 'value' } }],
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffedit-runtime-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createRuntime', () => {
  it('re-runs a file reader when the file changes on disk, and only then', async () => {
    const runtime = createRuntime({ catalog: createNodeCatalog([ReadText]), inputsDir: dir });
    const events: RunEvent[] = [];
    const unsubscribe = runtime.onEvent((e) => events.push(e));
    await writeFile(join(dir, 'note.txt'), 'first');
    expect((await runtime.run(doc)).outputs.show.text).toBe('first');
    await runtime.run(doc);
    expect(reads).toBe(1);
    await writeFile(join(dir, 'note.txt'), 'second');
    await utimes(join(dir, 'note.txt'), new Date(), new Date(Date.now() + 10_000));
    expect((await runtime.run(doc)).outputs.show.text).toBe('second');
    expect(reads).toBe(2);
    expect(events.filter((e) => e.type === 'run:done')).toHaveLength(3);
    unsubscribe();
    await runtime.run(doc);
    expect(events.filter((e) => e.type === 'run:done')).toHaveLength(3);
    expect(runtime.cache.stats()).toMatchObject({ entries: 4, hits: 2 });
    await runtime.close();
  });

  it('fails the reader node, naming the param, when its file is missing', async () => {
    const runtime = createRuntime({ catalog: createNodeCatalog([ReadText]), inputsDir: dir });
    const missing = { ...doc, nodes: [{ ...doc.nodes[0], params: { file: 'gone.txt' } }, doc.nodes[1]] };
    const result = await runtime.run(missing);
    expect(result.error).toMatchObject({ nodeId: 'read', field: 'file', code: 'fingerprint_failed' });
    expect(result.error!.message).toContain("cannot read file 'gone.txt'");
    await runtime.close();
  });
});

describe('artifactFileNames', () => {
  it('keeps chosen names and prefixes the node id only where two nodes chose the same one', () => {
    const file = (nodeId: string, name: string) => ({
      nodeId,
      name,
      mime: 'text/plain',
      bytes: new Uint8Array(),
    });
    expect(
      artifactFileNames([file('a', 'value.txt'), file('b', 'value.txt'), file('c', 'grid.png')]),
    ).toEqual(['a-value.txt', 'b-value.txt', 'grid.png']);
  });
});
