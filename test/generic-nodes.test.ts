import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { createExecutor, NodeInputError, validateWorkflow } from '@diffedit/core';
import { createNodeCatalog, fillTemplate, formatValue, listNodes } from '@diffedit/nodes';

const golden = fileURLToPath(new URL('../workflows/golden/', import.meta.url));
const readGolden = (file: string): unknown => JSON.parse(readFileSync(`${golden}${file}`, 'utf8'));

describe('generic nodes', () => {
  it('fills templates and names the missing placeholder', () => {
    expect(fillTemplate('a {a} and a {b} {{x}}', { a: 'cat', b: 'dog' })).toBe('a cat and a dog {x}');
    expect(() => fillTemplate('a {c}', { a: 'cat', c: undefined })).toThrow(
      new NodeInputError('template', 'placeholder {c} has no value (connected: a)'),
    );
  });

  it('formats values for display, summarising binary data', () => {
    expect(formatValue('text')).toBe('text');
    expect(formatValue(['a', 'b'])).toBe('[\n  "a",\n  "b"\n]');
    expect(formatValue({ data: new Float32Array(3) })).toBe('{\n  "data": "Float32Array(3)"\n}');
  });

  it('lists every node with its sockets and params as JSON', () => {
    const nodes = listNodes();
    const types = nodes.map((n) => n.type);
    // Generic nodes come first; model and DiffEdit packs follow.
    expect(types.slice(0, 6)).toEqual(['Text', 'Number', 'Integer', 'TextTemplate', 'TextList', 'ShowValue']);
    expect(new Set(types).size).toBe(types.length);
    const template = nodes.find((n) => n.type === 'TextTemplate')!;
    expect(template.inputs[0]).toEqual({ name: 'a', types: ['TEXT', 'NUMBER', 'INT'], required: false });
    expect(template.params[0]).toMatchObject({ name: 'template', kind: 'text', default: '{a}' });
    expect(nodes.find((n) => n.type === 'Integer')!.params[0]).toMatchObject({ kind: 'int', step: 1 });
    expect(nodes.find((n) => n.type === 'ShowValue')!.output).toBe(true);
    expect(JSON.parse(JSON.stringify(nodes))).toEqual(nodes);
  });
});

describe('golden workflows', () => {
  const catalog = createNodeCatalog();
  const files = readdirSync(golden).filter((f) => f.endsWith('.json'));

  it.each(files)('%s validates against the catalog', (file) => {
    const result = validateWorkflow(readGolden(file), catalog);
    expect(result.ok ? [] : result.issues).toEqual([]);
  });

  it('prompt-template.json runs and produces the expected texts', async () => {
    const result = await createExecutor({ catalog }).run(readGolden('prompt-template.json'));
    expect(result.status).toBe('done');
    const files = Object.fromEntries(
      result.artifacts.map((a) => [a.name, new TextDecoder().decode(a.bytes)]),
    );
    expect(files).toEqual({
      'source.txt': 'a photo of a bowl of fruits\n',
      'target.txt': 'a photo of a bowl of pears, strength 0.75, 50 steps, {literal}\n',
    });
  });

  it('ShowValue names its filename param when the name has folders in it', async () => {
    const doc = readGolden('minimal.json') as { nodes: { id: string; params?: Record<string, unknown> }[] };
    doc.nodes[1].params = { filename: '../escape.txt' };
    const result = await createExecutor({ catalog }).run(doc);
    expect(result.error).toMatchObject({
      nodeId: 'show',
      nodeType: 'ShowValue',
      field: 'filename',
      code: 'invalid_input',
    });
    expect(result.artifacts).toEqual([]);
  });

  it('text-list.json splits lines, trimming and dropping blanks', async () => {
    const result = await createExecutor({ catalog }).run(readGolden('text-list.json'));
    expect(result.outputs.prompts.list).toEqual(['a cat', 'a dog', 'a horse']);
  });
});
