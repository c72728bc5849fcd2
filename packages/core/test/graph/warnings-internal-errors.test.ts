import {
  createExecutor,
  defineNode,
  INTERNAL_ERROR,
  NodeCatalog,
  NodeError,
  toRunError,
} from '@diffedit/core';
import type { RunEvent } from '@diffedit/core';
import { describe, expect, it } from 'vitest';

import { workflow } from './fixtures.js';

const Warn = defineNode({
  type: 'Warn',
  version: 1,
  title: 'Warn',
  category: 'test',
  description: 'warns when its text is empty',
  inputs: {},
  params: { text: { kind: 'string', default: '' } },
  outputs: { text: { type: 'TEXT' } },
  output: true,
  async run(ctx, _inputs, params) {
    if (params.text.trim() === '') {
      ctx.warn({ code: 'empty_text', field: 'text', message: 'the text is empty: nothing to say' });
    }
    return { text: params.text };
  },
});

const Crash = defineNode({
  type: 'Crash',
  version: 1,
  title: 'Crash',
  category: 'test',
  description: 'has a bug, or fails on its input',
  inputs: {},
  params: {
    how: { kind: 'enum', options: ['type-error', 'node-error', 'coded', 'string'], default: 'type-error' },
  },
  outputs: { text: { type: 'TEXT' } },
  output: true,
  async run(_ctx, _inputs, params) {
    if (params.how === 'node-error') throw new NodeError('the input is bad', 'bad_input', 'how');
    if (params.how === 'coded')
      throw Object.assign(new Error('model folder is empty'), { code: 'model_not_found' });
    if (params.how === 'string') throw 'a thrown string';
    const missing = undefined as unknown as { length: number };
    return { text: String(missing.length) };
  },
});

const catalog = new NodeCatalog([Warn, Crash]);

describe('ctx.warn', () => {
  it('emits node:warning events and lists the warnings in the result, again on a cache hit', async () => {
    const executor = createExecutor({ catalog });
    const events: RunEvent[] = [];
    const doc = workflow([
      { id: 'w', type: 'Warn', params: { text: '   ' } },
      { id: 'ok', type: 'Warn', params: { text: 'hello' } },
    ]);
    const first = await executor.run(doc, { onEvent: (e) => events.push(e) });
    expect(first.status).toBe('done');
    const expected = { nodeId: 'w', nodeType: 'Warn', code: 'empty_text', field: 'text' };
    expect(first.warnings).toEqual([{ ...expected, message: 'the text is empty: nothing to say' }]);
    const warningEvents = events.filter((e) => e.type === 'node:warning');
    expect(warningEvents).toHaveLength(1);
    expect(warningEvents[0]).toMatchObject({ type: 'node:warning', runId: first.runId, ...expected });
    // after the node's start and before its done
    const order = events.filter((e) => 'nodeId' in e && e.nodeId === 'w').map((e) => e.type);
    expect(order).toEqual(['node:start', 'node:warning', 'node:done']);

    const again = await executor.run(doc);
    expect(again.nodes.every((n) => n.status === 'cached')).toBe(true);
    expect(again.warnings).toEqual(first.warnings);
  });

  it('a run without warnings has an empty list', async () => {
    const result = await createExecutor({ catalog }).run(
      workflow([{ id: 'ok', type: 'Warn', params: { text: 'x' } }]),
    );
    expect(result.warnings).toEqual([]);
  });
});

describe('internal errors are told apart from failed nodes', () => {
  const run = (how: string) =>
    createExecutor({ catalog }).run(workflow([{ id: 'c', type: 'Crash', params: { how } }]));

  it('an unexpected exception inside a node is internal_error, naming the node and asking for a bug report', async () => {
    const result = await run('type-error');
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ nodeId: 'c', nodeType: 'Crash', code: INTERNAL_ERROR });
    expect(result.error?.message).toMatch(/internal error in Crash \(a bug, please report it\): TypeError/);
    expect((await run('string')).error).toMatchObject({
      code: INTERNAL_ERROR,
      message: expect.stringContaining('a thrown string'),
    });
  });

  it('a NodeError, or an error with a stable code, is a node failure with its own code', async () => {
    expect((await run('node-error')).error).toEqual({
      nodeId: 'c',
      nodeType: 'Crash',
      code: 'bad_input',
      field: 'how',
      message: 'the input is bad',
    });
    expect((await run('coded')).error).toMatchObject({
      code: 'model_not_found',
      message: 'model folder is empty',
    });
    const fsError = Object.assign(new Error("ENOENT: no such file 'x.png'"), { code: 'ENOENT' });
    expect(toRunError(fsError, 'n', 'T')).toMatchObject({ code: 'node_failed' });
  });
});

describe('the executor never rejects', () => {
  it('a bug outside any node (here a broken catalog) ends the run as internal_error, with a run:failed event', async () => {
    class BrokenCatalog extends NodeCatalog {
      override get(): never {
        throw new TypeError('catalog lookup failed');
      }
    }
    const events: RunEvent[] = [];
    const result = await createExecutor({ catalog: new BrokenCatalog([Warn]) }).run(
      workflow([{ id: 'w', type: 'Warn' }]),
      { onEvent: (e) => events.push(e) },
    );
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({
      nodeId: null,
      code: INTERNAL_ERROR,
      message: 'internal error (a bug, please report it): TypeError: catalog lookup failed',
    });
    expect(events.map((e) => e.type)).toEqual(['run:failed']);
  });
});
