import { describe, expect, it } from 'vitest';

import { createExecutor, defineNode, NodeCatalog, OutputCache, ServiceRegistry } from '@diffedit/core';
import type { RunEvent } from '@diffedit/core';

import { createTestCatalog, eventLog, GreetingKey, workflow } from './fixtures.js';

// x ─┐
//    add ── sink1
// y ─┘
// n ──────── sink2
const graph = (xValue = 1, seed = 7) =>
  workflow(
    [
      { id: 'x', type: 'Const', params: { value: xValue } },
      { id: 'y', type: 'Const', params: { value: 10 } },
      { id: 'add', type: 'Add' },
      { id: 'sink1', type: 'Sink' },
      { id: 'n', type: 'Noise', params: { seed } },
      { id: 'sink2', type: 'Sink' },
    ],
    ['x.value->add.a', 'y.value->add.b', 'add.sum->sink1.value', 'n.value->sink2.value'],
  );

describe('Executor', () => {
  it('runs every node once in topological order and emits ordered events', async () => {
    const { catalog, runs } = createTestCatalog();
    const executor = createExecutor({ catalog });
    const log = eventLog();
    const result = await executor.run(graph(), { onEvent: log.onEvent });
    expect(result.status).toBe('done');
    expect(result.outputs.add.sum).toBe(11);
    expect(log.ids('node:start')).toEqual(['x', 'y', 'add', 'sink1', 'n', 'sink2']);
    expect(log.events[0].type).toBe('run:start');
    expect(log.events.at(-1)!.type).toBe('run:done');
    expect(new Set(log.events.map((e) => e.runId))).toEqual(new Set([result.runId]));
    const times = log.events.map((e) => e.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // node:done follows node:start of the same node and carries a summary
    const done = log.events.find((e) => e.type === 'node:done' && e.nodeId === 'add');
    expect(done).toMatchObject({ outputs: { sum: '11' } });
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(new TextDecoder().decode(result.artifacts.find((a) => a.nodeId === 'sink1')!.bytes)).toBe('11');
  });

  it('re-runs only the changed node and its dependents (partial cache)', async () => {
    const { catalog } = createTestCatalog();
    const executor = createExecutor({ catalog });
    await executor.run(graph(1));
    const log = eventLog();
    const result = await executor.run(graph(2), { onEvent: log.onEvent });
    expect(result.status).toBe('done');
    expect(log.ids('node:start')).toEqual(['x', 'add', 'sink1']);
    // y is still needed by add, so it is served from the cache; n is upstream of a cached output only.
    expect(log.ids('node:cached')).toEqual(['y', 'sink2']);
    const start = log.events[0] as Extract<RunEvent, { type: 'run:start' }>;
    expect(start.planned).toEqual(['x', 'y', 'add', 'sink1', 'sink2']);
    expect(start.cached).toEqual(['y', 'sink2']);
    expect(result.outputs.add.sum).toBe(12);
  });

  it('keeps the last `variantsPerNode` results of each node: an older variant re-runs, a recent one is cached', async () => {
    const { catalog } = createTestCatalog();
    const executor = createExecutor({ catalog, variantsPerNode: 3 });
    for (let x = 1; x <= 5; x++) await executor.run(graph(x));
    // x, add and sink1 changed 5 times: 3 results each; y, n and sink2 one each
    expect(executor.cache.stats()).toMatchObject({ entries: 3 * 3 + 3, variantsPerNode: 3 });
    const recent = eventLog();
    await executor.run(graph(3), { onEvent: recent.onEvent });
    expect(recent.ids('node:start')).toEqual([]);
    const old = eventLog();
    await executor.run(graph(1), { onEvent: old.onEvent });
    expect(old.ids('node:start')).toEqual(['x', 'add', 'sink1']);
    expect(old.ids('node:cached')).toEqual(['y', 'sink2']);
  });

  it('reuses cached outputs across runs and still re-emits output files', async () => {
    const { catalog, runs } = createTestCatalog();
    const executor = createExecutor({ catalog });
    const first = await executor.run(graph());
    const log = eventLog();
    const second = await executor.run(graph(), { onEvent: log.onEvent });
    expect(log.ids('node:start')).toEqual([]);
    expect(log.ids('node:cached')).toEqual(['sink1', 'sink2']);
    expect(second.nodes.map((n) => n.status)).toEqual(['cached', 'cached']);
    expect(second.artifacts.map((a) => a.name).sort()).toEqual(first.artifacts.map((a) => a.name).sort());
    expect(runs.get('sink1')).toBe(1);
    expect(executor.cache.stats().hits).toBe(2);
  });

  it('shows each node its outputs (ran or cached) before its node:done / node:cached, and survives a throwing hook', async () => {
    const { catalog } = createTestCatalog();
    const executor = createExecutor({ catalog });
    const seen: string[] = [];
    const sawFirst = async (
      log: ReturnType<typeof eventLog>,
      nodeId: string,
      cached: boolean,
      outputs: object,
    ) => {
      seen.push(`${nodeId}:${cached ? 'cached' : 'ran'}:${JSON.stringify(outputs)}`);
      // Awaited before the node's event: it has not been sent yet.
      await Promise.resolve();
      expect(
        log.events.some((e) => (e.type === 'node:done' || e.type === 'node:cached') && e.nodeId === nodeId),
      ).toBe(false);
    };
    const first = eventLog();
    await executor.run(graph(1), {
      onEvent: first.onEvent,
      onNodeOutputs: (n) => sawFirst(first, n.nodeId, n.cached, n.outputs),
    });
    expect(seen.filter((s) => s.startsWith('add:'))).toEqual(['add:ran:{"sum":11}']);
    seen.length = 0;
    const second = eventLog();
    const result = await executor.run(graph(2), {
      onEvent: second.onEvent,
      onNodeOutputs: async (n) => {
        await sawFirst(second, n.nodeId, n.cached, n.outputs);
        throw new Error('a broken hook');
      },
    });
    expect(result.status).toBe('done');
    expect(seen.filter((s) => s.startsWith('y:') || s.startsWith('add:'))).toEqual([
      'y:cached:{"value":10}',
      'add:ran:{"sum":12}',
    ]);
  });

  it('treats a changed seed as a different computation', async () => {
    const { catalog, runs } = createTestCatalog();
    const executor = createExecutor({ catalog });
    const a = await executor.run(graph(1, 7));
    const b = await executor.run(graph(1, 8));
    expect(runs.get('n')).toBe(2);
    expect(runs.get('x')).toBe(1);
    expect(a.outputs.n.value).not.toBe(b.outputs.n.value);
  });

  it('reports a failing node with its id, type, field and message, keeping earlier results cached', async () => {
    const { catalog, runs } = createTestCatalog();
    const executor = createExecutor({ catalog });
    const doc = workflow(
      [
        { id: 'x', type: 'Const' },
        { id: 'bad', type: 'Fail', params: { message: 'value must be positive' } },
        { id: 's', type: 'Sink' },
      ],
      ['x.value->bad.value', 'bad.value->s.value'],
    );
    const log = eventLog();
    const result = await executor.run(doc, { onEvent: log.onEvent });
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({
      nodeId: 'bad',
      nodeType: 'Fail',
      field: 'value',
      code: 'invalid_input',
      message: 'value must be positive',
    });
    expect(log.events.map((e) => e.type).slice(-2)).toEqual(['node:error', 'run:failed']);
    expect(result.nodes.map((n) => [n.nodeId, n.status])).toEqual([
      ['x', 'ran'],
      ['bad', 'failed'],
      ['s', 'pending'],
    ]);
    await executor.run(doc);
    expect(runs.get('x')).toBe(1);
    expect(runs.get('bad')).toBe(2);
  });

  it('reports progress between node:start and node:done', async () => {
    const { catalog } = createTestCatalog();
    const log = eventLog();
    const doc = workflow(
      [
        { id: 'slow', type: 'Slow', params: { steps: 3, stepMs: 0 } },
        { id: 's', type: 'Sink' },
      ],
      ['slow.value->s.value'],
    );
    await createExecutor({ catalog, progressIntervalMs: 0 }).run(doc, { onEvent: log.onEvent });
    const slow = log.events.filter((e) => 'nodeId' in e && e.nodeId === 'slow');
    expect(slow.map((e) => (e.type === 'node:progress' ? `${e.step}/${e.total}` : e.type))).toEqual([
      'node:start',
      '1/3',
      '2/3',
      '3/3',
      'node:done',
    ]);
  });

  it('throttles progress per node to one event per interval, always sending the last', async () => {
    const { catalog } = createTestCatalog();
    // A fake clock advancing 10 ms per reading: with a 50 ms interval every fifth step goes out.
    let clock = 0;
    const executor = createExecutor({ catalog, now: () => (clock += 10) });
    const log = eventLog();
    const doc = workflow(
      [
        { id: 'slow', type: 'Slow', params: { steps: 23, stepMs: 0 } },
        { id: 's', type: 'Sink' },
      ],
      ['slow.value->s.value'],
    );
    await executor.run(doc, { onEvent: log.onEvent });
    const slow = log.events.filter((e) => 'nodeId' in e && e.nodeId === 'slow');
    expect(slow.map((e) => (e.type === 'node:progress' ? e.step : e.type))).toEqual([
      'node:start',
      1,
      6,
      11,
      16,
      21,
      23,
      'node:done',
    ]);
  });

  it('keeps the preview of a dropped progress event for the next one sent', async () => {
    const Previews = defineNode({
      type: 'Previews',
      version: 1,
      title: 'Previews',
      category: 'test',
      description: 'a preview at step 2 of 5 only',
      output: true,
      inputs: {},
      params: {},
      outputs: {},
      async run(ctx) {
        for (let step = 1; step <= 5; step++) {
          const preview = step === 2 ? { mime: 'image/png', bytes: new Uint8Array([2]) } : undefined;
          ctx.progress(step, 5, preview);
        }
        return {};
      },
    });
    let clock = 0;
    const executor = createExecutor({ catalog: new NodeCatalog([Previews]), now: () => (clock += 20) });
    const log = eventLog();
    await executor.run(workflow([{ id: 'p', type: 'Previews' }]), { onEvent: log.onEvent });
    const progress = log.events.flatMap((e) =>
      e.type === 'node:progress' ? [[e.step, e.preview ? Array.from(e.preview.bytes) : null]] : [],
    );
    // 20 ms per reading, 50 ms interval: steps 1 and 4 go out, 5 is flushed; 2's preview rides on 4
    expect(progress).toEqual([
      [1, null],
      [4, [2]],
      [5, null],
    ]);
  });

  it('cancels inside a node that reports progress, and the result is not cached', async () => {
    const { catalog } = createTestCatalog();
    const executor = createExecutor({ catalog, progressIntervalMs: 0 });
    const doc = workflow(
      [
        { id: 'slow', type: 'Slow', params: { steps: 200, stepMs: 2 } },
        { id: 's', type: 'Sink' },
      ],
      ['slow.value->s.value'],
    );
    const controller = new AbortController();
    const log = eventLog();
    const result = await executor.run(doc, {
      signal: controller.signal,
      onEvent: (e) => {
        log.onEvent(e);
        if (e.type === 'node:progress' && e.step === 3) controller.abort();
      },
    });
    expect(result.status).toBe('cancelled');
    expect(log.events.at(-1)).toMatchObject({ type: 'run:cancelled', nodeId: 'slow' });
    const steps = log.events.filter((e) => e.type === 'node:progress').length;
    expect(steps).toBe(3);
    expect(log.ids('node:done')).toEqual([]);
    expect(result.nodes.find((n) => n.nodeId === 'slow')!.status).toBe('cancelled');
    expect(executor.cache.stats().entries).toBe(0);
  });

  it('cancels a node that ignores its signal without waiting for it', async () => {
    const { catalog } = createTestCatalog();
    const executor = createExecutor({ catalog });
    const controller = new AbortController();
    const doc = workflow(
      [
        { id: 'h', type: 'Hang' },
        { id: 's', type: 'Sink' },
      ],
      ['h.value->s.value'],
    );
    setTimeout(() => controller.abort(), 20);
    const result = await executor.run(doc, { signal: controller.signal });
    expect(result.status).toBe('cancelled');
  });

  it('honours cancellation between nodes', async () => {
    const { catalog, runs } = createTestCatalog();
    const executor = createExecutor({ catalog });
    const controller = new AbortController();
    const result = await executor.run(graph(), {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'node:done' && e.nodeId === 'y') controller.abort();
      },
    });
    expect(result.status).toBe('cancelled');
    expect(runs.has('add')).toBe(false);
  });

  it('prunes the plan to the given targets', async () => {
    const { catalog, runs } = createTestCatalog();
    const executor = createExecutor({ catalog });
    const log = eventLog();
    const result = await executor.run(graph(), { targets: ['add'], onEvent: log.onEvent });
    expect(result.status).toBe('done');
    expect(log.ids('node:start')).toEqual(['x', 'y', 'add']);
    expect(runs.has('n')).toBe(false);
    expect(runs.has('sink1')).toBe(false);
    expect(result.outputs.add.sum).toBe(11);
  });

  it('runs up to a target even when another branch is still incomplete', async () => {
    const { catalog } = createTestCatalog();
    const executor = createExecutor({ catalog });
    const doc = workflow(
      [
        { id: 'x', type: 'Const', params: { value: 4 } },
        { id: 'add', type: 'Add' },
        { id: 'unfinished', type: 'Add' },
        { id: 's', type: 'Sink' },
      ],
      ['x.value->add.a', 'unfinished.sum->s.value'],
    );
    expect((await executor.run(doc)).status).toBe('invalid');
    const result = await executor.run(doc, { targets: ['add'] });
    expect(result.status).toBe('done');
    expect(result.outputs.add.sum).toBe(4);
  });

  it('evicts least recently used outputs under the byte budget, so evicted nodes run again', async () => {
    const { catalog, runs } = createTestCatalog();
    // Each Blob holds 1000 floats = 4000 bytes (+ shape); the budget holds two of them.
    const executor = createExecutor({ catalog, cacheBytes: 9000 });
    const blobs = (seed: number) =>
      workflow(
        [
          { id: 'b', type: 'Blob', params: { length: 1000, seed } },
          { id: 's', type: 'Sink', params: {} },
        ],
        ['b.data->s.value'],
      );
    await executor.run(blobs(1), { targets: ['b'] });
    await executor.run(blobs(2), { targets: ['b'] });
    expect(executor.cache.stats().entries).toBe(2);
    await executor.run(blobs(3), { targets: ['b'] });
    const stats = executor.cache.stats();
    expect(stats.entries).toBe(2);
    expect(stats.evictions).toBe(1);
    expect(stats.bytes).toBeLessThanOrEqual(9000);
    expect(stats.bytes).toBe(2 * (4000 + 8));
    await executor.run(blobs(3), { targets: ['b'] }); // still cached
    await executor.run(blobs(1), { targets: ['b'] }); // evicted → runs again
    expect(runs.get('b')).toBe(4);
    executor.cache.clear();
    expect(executor.cache.stats().bytes).toBe(0);
  });

  it('converts TEXT to TEXT_LIST along an edge and passes services to nodes', async () => {
    const { catalog } = createTestCatalog();
    const services = new ServiceRegistry().set(GreetingKey, { greet: (name) => `hello ${name}` });
    const executor = createExecutor({ catalog, services });
    const doc = workflow(
      [
        { id: 'w', type: 'Words', params: { text: 'cat' } },
        { id: 'g', type: 'Greet', params: { name: 'bob' } },
        { id: 'j', type: 'Join' },
        { id: 's', type: 'Sink' },
      ],
      ['w.text->j.items', 'g.text->j.prefix', 'j.text->s.value'],
    );
    const result = await executor.run(doc);
    expect(result.outputs.j.text).toBe('hello bobcat');
  });

  it('fails clearly when a node needs a service that is not registered', async () => {
    const { catalog } = createTestCatalog();
    const executor = createExecutor({ catalog });
    const doc = workflow(
      [
        { id: 'g', type: 'Greet' },
        { id: 's', type: 'Sink' },
      ],
      ['g.text->s.value'],
    );
    const result = await executor.run(doc);
    expect(result.error).toMatchObject({
      nodeId: 'g',
      message: "service 'greeting' is not registered with this runtime",
    });
  });

  it('exposes cache keys and fingerprints in events and in the result', async () => {
    const { catalog } = createTestCatalog();
    const executor = createExecutor({ catalog, fingerprintParam: (_kind, value) => `fp(${value})` });
    const doc = workflow(
      [
        { id: 'r', type: 'ReadFile', params: { path: 'b.txt' } },
        { id: 's', type: 'Sink' },
        { id: 'unused', type: 'ReadFile' },
      ],
      ['r.text->s.value'],
    );
    const first = eventLog();
    const result = await executor.run(doc, { onEvent: first.onEvent });
    // only what the targets need is fingerprinted and keyed
    expect(result.fingerprints).toEqual({ r: { path: 'fp(b.txt)' } });
    const keys = Object.fromEntries(result.nodes.map((n) => [n.nodeId, n.cacheKey]));
    expect(Object.keys(keys)).toEqual(['r', 's']);
    const start = first.events.find((e) => e.type === 'run:start');
    expect(start).toMatchObject({ type: 'run:start', keys });
    for (const e of first.events) if (e.type === 'node:done') expect(e.cacheKey).toBe(keys[e.nodeId]);
    const second = eventLog();
    await executor.run(doc, { onEvent: second.onEvent });
    const cached = second.events.filter((e) => e.type === 'node:cached');
    expect(cached.map((e) => [e.nodeId, e.cacheKey])).toEqual([['s', keys.s]]);
  });

  it('puts file fingerprints into the key: a changed file re-runs its reader', async () => {
    const { catalog, runs } = createTestCatalog();
    const contents: Record<string, string> = { 'a.txt': 'v1' };
    const executor = createExecutor({ catalog, fingerprintParam: (_kind, value) => contents[value] });
    const doc = workflow(
      [
        { id: 'r', type: 'ReadFile', params: { path: 'a.txt' } },
        { id: 's', type: 'Sink' },
      ],
      ['r.text->s.value'],
    );
    await executor.run(doc);
    await executor.run(doc);
    expect(runs.get('r')).toBe(1);
    contents['a.txt'] = 'v2';
    await executor.run(doc);
    expect(runs.get('r')).toBe(2);
    expect(runs.get('s')).toBe(2);
  });

  it('never reuses file readers without a fingerprinter, and reports unreadable files', async () => {
    const { catalog, runs } = createTestCatalog();
    const doc = workflow(
      [
        { id: 'r', type: 'ReadFile' },
        { id: 's', type: 'Sink' },
      ],
      ['r.text->s.value'],
    );
    const executor = createExecutor({ catalog });
    await executor.run(doc);
    await executor.run(doc);
    expect(runs.get('r')).toBe(2);
    const failing = createExecutor({
      catalog,
      fingerprintParam: () => {
        throw new Error('ENOENT');
      },
    });
    const result = await failing.run(doc);
    expect(result.error).toMatchObject({ nodeId: 'r', field: 'path', code: 'fingerprint_failed' });
  });

  it('keys a node that reads the workflow on the whole document, and gives the workflow to it only', async () => {
    const seen: Record<string, string | undefined> = {};
    const node = (type: string, readsWorkflow: boolean) =>
      defineNode({
        type,
        version: 1,
        title: type,
        category: 'test',
        description: 'writes the name of the workflow it ran in',
        output: true,
        readsWorkflow,
        inputs: {},
        params: {},
        outputs: {},
        async run(ctx) {
          seen[ctx.nodeId] = ctx.workflow?.name;
          ctx.emitFile({ name: `${ctx.nodeId}.txt`, mime: 'text/plain', bytes: new Uint8Array(1) });
          return {};
        },
      });
    const executor = createExecutor({
      catalog: new NodeCatalog([node('Embed', true), node('Plain', false)]),
    });
    const doc = (name: string) => ({
      ...workflow([
        { id: 'embed', type: 'Embed' },
        { id: 'plain', type: 'Plain' },
      ]),
      name,
    });
    await executor.run(doc('first'));
    expect(seen).toEqual({ embed: 'first', plain: undefined });
    const log = eventLog();
    await executor.run(doc('second'), { onEvent: log.onEvent });
    expect(log.ids('node:start')).toEqual(['embed']);
    expect(log.ids('node:cached')).toEqual(['plain']);
    expect(seen.embed).toBe('second');
    const again = eventLog();
    await executor.run(doc('second'), { onEvent: again.onEvent });
    expect(again.ids('node:cached')).toEqual(['embed', 'plain']);
  });

  it('gives a workflow-reading node the whole document when the run is limited to targets', async () => {
    let seen: { id: string; params: unknown }[] = [];
    const Embed = defineNode({
      type: 'Embed',
      version: 1,
      title: 'Embed',
      category: 'test',
      description: 'records the nodes of the workflow it ran in',
      output: true,
      readsWorkflow: true,
      inputs: {},
      params: { label: { kind: 'string', default: 'x' } },
      outputs: {},
      async run(ctx) {
        seen = (ctx.workflow?.nodes ?? []).map((n) => ({ id: n.id, params: n.params }));
        return {};
      },
    });
    const executor = createExecutor({ catalog: new NodeCatalog([Embed]) });
    const doc = (draftParams: Record<string, unknown>) =>
      workflow([
        { id: 'embed', type: 'Embed' },
        { id: 'draft', type: 'NotYetInstalled', params: draftParams },
      ]);
    const first = await executor.run(doc({ a: 1 }), { targets: ['embed'] });
    expect(first.status).toBe('done');
    // defaults filled in where the type is known; an unfinished node keeps its params as written
    expect(seen).toEqual([
      { id: 'embed', params: { label: 'x' } },
      { id: 'draft', params: { a: 1 } },
    ]);
    const log = eventLog();
    await executor.run(doc({ a: 2 }), { targets: ['embed'], onEvent: log.onEvent });
    expect(log.ids('node:start')).toEqual(['embed']); // what it embeds changed, so it is not served stale
    expect(seen[1]).toEqual({ id: 'draft', params: { a: 2 } });
  });

  it('checks emitted file names and warns when a non-output node emits a file', async () => {
    const Emit = defineNode({
      type: 'Emit',
      version: 1,
      title: 'Emit',
      category: 'test',
      description: 'emits the files named in `names` (comma-separated)',
      inputs: {},
      params: { names: { kind: 'string', default: 'a.txt' } },
      outputs: { value: { type: 'NUMBER' } },
      async run(ctx, _inputs, params) {
        for (const name of params.names.split(','))
          ctx.emitFile({ name, mime: 'text/plain', bytes: new Uint8Array(1) });
        return { value: 1 };
      },
    });
    const executor = createExecutor({ catalog: new NodeCatalog([Emit]) });
    const run = async (names: string) => {
      const log = eventLog();
      const doc = workflow([{ id: 'e', type: 'Emit', params: { names } }]);
      const result = await executor.run(doc, { targets: ['e'], onEvent: log.onEvent });
      return { result, log };
    };
    const ok = await run('a.txt');
    expect(ok.result.artifacts.map((a) => a.name)).toEqual(['a.txt']);
    expect(ok.log.events.find((e) => e.type === 'node:log')).toMatchObject({
      level: 'warn',
      nodeId: 'e',
      message: 'Emit is not an output node; files it emits are only kept with its cached result',
    });
    for (const [names, message] of [
      ['../a.txt', "invalid artifact file name '../a.txt' (plain file names only)"],
      ['..', "invalid artifact file name '..' (plain file names only)"],
      ['b.txt,b.txt', "artifact 'b.txt' was emitted twice"],
    ]) {
      expect((await run(names)).result.error).toEqual({
        nodeId: 'e',
        nodeType: 'Emit',
        code: 'invalid_artifact',
        message,
      });
    }
  });

  it('returns structured issues without running anything when the workflow is invalid', async () => {
    const { catalog, runs } = createTestCatalog();
    const executor = createExecutor({ catalog, cache: new OutputCache(1000) });
    const log = eventLog();
    const result = await executor.run(workflow([{ id: 'x', type: 'Nope' }]), { onEvent: log.onEvent });
    expect(result.status).toBe('invalid');
    expect(result.issues!.map((i) => i.code)).toEqual(['unknown_node_type', 'no_output_node']);
    expect(log.events.map((e) => e.type)).toEqual(['run:failed']);
    expect(runs.size).toBe(0);
  });
});
