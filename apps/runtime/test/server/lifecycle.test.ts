import { readFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { catalogFromJSON, computeCanvasKeys } from '@diffedit/core';
import type { RunDetail, ServerEvent } from '@diffedit/core';
import { readWorkflowFromPng } from '@diffedit/nodes';

import { connectClient, eventsOf, runEnd, startTestServer } from './harness.js';
import type { TestServer } from './harness.js';

const prompts = JSON.parse(
  await readFile(new URL('../../../../workflows/diffedit-prompts.json', import.meta.url), 'utf8'),
) as { nodes: { id: string; params: Record<string, unknown> }[] };

function withTarget(text: string): typeof prompts {
  const copy = structuredClone(prompts);
  copy.nodes.find((n) => n.id === 'target')!.params.text = text;
  return copy;
}

let test: TestServer;
let client: Awaited<ReturnType<typeof connectClient>>;

beforeAll(async () => {
  test = await startTestServer();
  client = await connectClient(test.url, { clientId: 'lifecycle' });
});
afterAll(async () => {
  client?.close();
  await test?.close();
});

describe('the DiffEdit prompts workflow through the server', () => {
  let first: RunDetail;

  it('runs with events in order, and its PNG downloads with the workflow inside', async () => {
    const accepted = await test.api
      .post('/api/runs')
      .send({ workflow: prompts, clientId: 'lifecycle' })
      .expect(202);
    const runId = accepted.body.runId as string;
    expect(accepted.body.position).toBe(0);
    first = await runEnd(test, client, runId);
    expect(first.status).toBe('succeeded');

    const events = eventsOf(client.events, runId);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('run:queued');
    expect(types[1]).toBe('run:start');
    expect(types.at(-1)).toBe('run:done');
    const start = events[1] as Extract<ServerEvent, { type: 'run:start' }>;
    expect(start.cached).toEqual([]);
    // Every planned node starts and finishes once, in plan order, its progress in between.
    const nodeEvents = events.filter((e) => e.type.startsWith('node:') && e.type !== 'node:log') as Extract<
      ServerEvent,
      { nodeId: string }
    >[];
    const starts = nodeEvents.filter((e) => e.type === 'node:start').map((e) => e.nodeId);
    const dones = nodeEvents.filter((e) => e.type === 'node:done').map((e) => e.nodeId);
    expect(starts).toEqual(start.planned);
    expect(dones).toEqual(start.planned);
    for (const e of nodeEvents) {
      const at = nodeEvents.indexOf(e);
      const started = nodeEvents.findIndex((x) => x.type === 'node:start' && x.nodeId === e.nodeId);
      const done = nodeEvents.findIndex((x) => x.type === 'node:done' && x.nodeId === e.nodeId);
      expect(started).toBeLessThanOrEqual(at);
      expect(done).toBeGreaterThanOrEqual(at);
    }
    const invertProgress = nodeEvents.filter((e) => e.type === 'node:progress' && e.nodeId === 'invert');
    expect(invertProgress.length).toBeGreaterThan(0);
    // The state GET returns matches the events: every node ran, each with its cache key.
    expect(first.nodes.map((n) => n.nodeId)).toEqual(start.planned);
    expect(first.nodes.every((n) => n.state === 'ran' && /^[0-9a-f]{64}$/.test(n.cacheKey ?? ''))).toBe(true);
    // What the editor does: the catalog JSON, the workflow and the run's fingerprints give the server's keys.
    expect(Object.keys(first.fingerprints ?? {})).toEqual(expect.arrayContaining(['model', 'image']));
    const catalog = catalogFromJSON((await test.api.get('/api/nodes').expect(200)).body);
    const { keys } = computeCanvasKeys(catalog, prompts, first.fingerprints);
    expect(Object.fromEntries(first.nodes.map((n) => [n.nodeId, n.cacheKey]))).toEqual(keys);
    // Every IMAGE and MASK output has its preview, sent between its node's start and done (checked above).
    for (const node of first.nodes) {
      const outputs = Object.entries(catalog.get(node.nodeType)!.outputs)
        .filter(([, spec]) => spec.type === 'IMAGE' || spec.type === 'MASK')
        .map(([name]) => name)
        // An empty batch (DDIMInvert's images without decode_latents) has nothing to show.
        .filter((name) => !node.outputs?.[name]?.startsWith('Tensor[0×'));
      expect((node.previews ?? []).map((p) => p.output).sort(), node.nodeId).toEqual(outputs.sort());
      const sent = nodeEvents.filter((e) => e.type === 'node:preview' && e.nodeId === node.nodeId);
      expect(sent).toHaveLength(outputs.length);
    }
    expect(first.nodes.find((n) => n.nodeId === 'invert')?.outputs?.images).toMatch(/^Tensor\[0×/);
    expect(first.nodes.find((n) => n.nodeId === 'mask')?.previews?.[0]?.socketType).toBe('MASK');
    expect(first.nodes.find((n) => n.nodeId === 'grid')?.previews?.[0]?.socketType).toBe('IMAGE');

    const saved = nodeEvents.find((e) => e.type === 'node:done' && e.nodeId === 'save') as Extract<
      ServerEvent,
      { type: 'node:done' }
    >;
    expect(saved.artifacts).toHaveLength(1);
    expect(first.files.map((f) => f.fileId)).toEqual([saved.artifacts[0].fileId]);
    const png = await test.api.get(saved.artifacts[0].url).buffer(true).expect(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect([...png.body.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const embedded = readWorkflowFromPng(new Uint8Array(png.body)) as { nodes: { id: string }[] };
    expect(embedded.nodes.map((n) => n.id).sort()).toEqual(prompts.nodes.map((n) => n.id).sort());
  });

  it('re-uses DDIMInvert from the cache when only the target prompt changed', async () => {
    const accepted = await test.api
      .post('/api/runs')
      .send({ workflow: withTarget('a yellow lemon'), clientId: 'lifecycle' })
      .expect(202);
    const runId = accepted.body.runId as string;
    const second = await runEnd(test, client, runId);
    expect(second.status).toBe('succeeded');
    const events = eventsOf(client.events, runId);
    const start = events.find((e) => e.type === 'run:start') as Extract<ServerEvent, { type: 'run:start' }>;
    expect(start.cached).toEqual(expect.arrayContaining(['invert', 'image', 'model', 'source']));
    expect(start.cached).not.toContain('target');
    expect(start.cached).not.toContain('mask');
    expect(events.some((e) => e.type === 'node:cached' && e.nodeId === 'invert')).toBe(true);
    expect(events.some((e) => e.type === 'node:start' && e.nodeId === 'invert')).toBe(false);
    expect(events.some((e) => e.type === 'node:start' && e.nodeId === 'denoise')).toBe(true);
    const invert = (run: RunDetail) => run.nodes.find((n) => n.nodeId === 'invert')!;
    expect(invert(second).state).toBe('cached');
    expect(invert(second).cacheKey).toBe(invert(first).cacheKey);

    const cache = await test.api.get('/api/cache').expect(200);
    expect(cache.body.hits).toBeGreaterThanOrEqual(4);
    expect(cache.body.entries).toBeGreaterThan(0);
    expect(cache.body.variantsPerNode).toBe(4);
  });

  it('lists both runs newest first, and a subscriber gets the finished state', async () => {
    const list = await test.api.get('/api/runs?status=succeeded&limit=1').expect(200);
    expect(list.body.total).toBe(2);
    expect(list.body.runs).toHaveLength(1);
    expect(list.body.runs[0].runId).not.toBe(first.runId);
    const page2 = await test.api.get('/api/runs?status=succeeded&limit=1&offset=1').expect(200);
    expect(page2.body.runs[0].runId).toBe(first.runId);

    const other = await connectClient(test.url);
    const ack = await other.socket.emitWithAck('subscribe', { runId: first.runId });
    expect(ack.ok).toBe(true);
    const state = other.events.find((e) => e.type === 'run:state');
    expect(state && state.type === 'run:state' && state.run.status).toBe('succeeded');
    other.close();
  });

  it('empties the cache on DELETE /api/cache', async () => {
    const cleared = await test.api.delete('/api/cache').expect(200);
    expect(cleared.body.entries).toBe(0);
    expect(cleared.body.bytes).toBe(0);
  });
});
