import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RunDetail, ServerEvent } from '@diffedit/core';

import {
  atGate,
  connectClient,
  eventsOf,
  gateWorkflow,
  openGate,
  runEnd,
  startTestServer,
  textWorkflow,
  waitForEvent,
} from './harness.js';
import type { TestServer } from './harness.js';

async function submit(
  test: TestServer,
  workflow: object,
  clientId: string,
): Promise<{ runId: string; position: number }> {
  const response = await test.api.post('/api/runs').send({ workflow, clientId }).expect(202);
  return response.body as { runId: string; position: number };
}

describe('the queue', () => {
  let test: TestServer;
  let client: Awaited<ReturnType<typeof connectClient>>;
  beforeAll(async () => {
    test = await startTestServer();
    client = await connectClient(test.url, { clientId: 'queue' });
  });
  afterAll(async () => {
    client?.close();
    await test?.close();
  });

  it('runs one at a time in FIFO order', async () => {
    const a = await submit(test, gateWorkflow('fifo'), 'queue');
    await atGate(client, a.runId);
    const rest = [];
    for (const text of ['b', 'c', 'd']) rest.push(await submit(test, textWorkflow(`fifo ${text}`), 'queue'));
    expect([a, ...rest].map((r) => r.position)).toEqual([0, 1, 2, 3]);
    const waiting = await test.api.get(`/api/runs/${rest[1].runId}`).expect(200);
    expect(waiting.body).toMatchObject({ status: 'queued', position: 2 });
    const health = await test.api.get('/api/health').expect(200);
    expect(health.body.queue).toEqual({ running: a.runId, queued: 3 });

    openGate('fifo');
    const runs: RunDetail[] = [];
    for (const r of [a, ...rest]) runs.push(await runEnd(test, client, r.runId));
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    const ids = [a, ...rest].map((r) => r.runId);
    const startOrder = client.events
      .filter(
        (e): e is Extract<ServerEvent, { type: 'run:start' }> =>
          e.type === 'run:start' && ids.includes(e.runId),
      )
      .map((e) => e.runId);
    expect(startOrder).toEqual(ids);
    // No overlap: each run starts after the previous one finished.
    for (let i = 1; i < runs.length; i++)
      expect(runs[i].startedAt!).toBeGreaterThanOrEqual(runs[i - 1].finishedAt!);
  });

  it('cancels a queued run: it never starts, and the run before it is untouched', async () => {
    const a = await submit(test, gateWorkflow('cancel-queued'), 'queue');
    await atGate(client, a.runId);
    const b = await submit(test, textWorkflow('never'), 'queue');
    const cancelled = await test.api.delete(`/api/runs/${b.runId}`).expect(200);
    expect(cancelled.body.status).toBe('cancelled');
    openGate('cancel-queued');
    expect((await runEnd(test, client, a.runId)).status).toBe('succeeded');
    expect(eventsOf(client.events, b.runId).map((e) => e.type)).toEqual(['run:queued', 'run:cancelled']);
    expect((await test.api.get(`/api/runs/${b.runId}`).expect(200)).body.status).toBe('cancelled');
    const changes = client.events.filter((e) => e.type === 'queue:changed');
    expect(changes.some((e) => e.type === 'queue:changed' && e.queued.includes(b.runId))).toBe(true);
    expect(changes.at(-1)).toMatchObject({ running: null, queued: [] });
  });

  it('cancels a running run at its node, and refuses to cancel a finished one', async () => {
    const a = await submit(test, gateWorkflow('cancel-running'), 'queue');
    await atGate(client, a.runId);
    const cancelled = await test.api.delete(`/api/runs/${a.runId}`).expect(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.nodes).toEqual([expect.objectContaining({ nodeId: 'gate', state: 'cancelled' })]);
    const end = eventsOf(client.events, a.runId).at(-1);
    expect(end).toMatchObject({ type: 'run:cancelled', nodeId: 'gate' });
    const again = await test.api.delete(`/api/runs/${a.runId}`).expect(409);
    expect(again.body.errors[0].code).toBe('run_finished');
    // The queue goes on after a cancellation.
    const next = await submit(test, textWorkflow('after cancel'), 'queue');
    expect((await runEnd(test, client, next.runId)).status).toBe('succeeded');
  });

  it("forwards a node's warnings as node:warning events and keeps them with the run", async () => {
    const a = await submit(test, gateWorkflow('warn-once'), 'queue');
    await atGate(client, a.runId);
    const live = await test.api.get(`/api/runs/${a.runId}`).expect(200);
    const warning = {
      nodeId: 'gate',
      nodeType: 'TestGate',
      code: 'test_warning',
      field: 'name',
      message: 'gate warn-once warns',
    };
    expect(live.body.warnings).toEqual([warning]);
    openGate('warn-once');
    const done = await runEnd(test, client, a.runId);
    expect(done.warnings).toEqual([warning]);
    const events = eventsOf(client.events, a.runId);
    expect(events.filter((e) => e.type === 'node:warning')).toEqual([
      expect.objectContaining({ type: 'node:warning', ...warning }),
    ]);
    const types = events.map((e) => e.type);
    expect(types.indexOf('node:warning')).toBeGreaterThan(types.indexOf('node:start'));
    expect(types.indexOf('node:warning')).toBeLessThan(types.indexOf('node:done'));
  });

  it('keeps answering HTTP while a node holds the executing thread without yielding', async () => {
    const flag = join(test.dataDir, `release-${Date.now()}`);
    const workflow = {
      format: 'diffedit-studio.workflow',
      version: 1,
      name: 'hold',
      nodes: [{ id: 'hold', type: 'TestHoldThread', params: { flag } }],
      edges: [],
    };
    const a = await submit(test, workflow, 'queue');
    await waitForEvent(client, (e) => e.type === 'node:progress' && e.runId === a.runId);
    // The node is spinning now; with the executor on the server's thread these could not be answered.
    const health = await test.api.get('/api/health').expect(200);
    expect(health.body.queue.running).toBe(a.runId);
    expect((await test.api.get(`/api/runs/${a.runId}`).expect(200)).body.status).toBe('running');
    await writeFile(flag, '');
    expect((await runEnd(test, client, a.runId)).status).toBe('succeeded');
  });

  it('answers 404 for unknown runs and 400 for ids that are not run ids', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await test.api.get(`/api/runs/${unknown}`).expect(404)).body.errors[0].code).toBe('not_found');
    expect((await test.api.delete(`/api/runs/${unknown}`).expect(404)).body.errors[0].code).toBe('not_found');
    await test.api.get('/api/runs/not-a-run').expect(400);
    const sub = await client.socket.emitWithAck('subscribe', { runId: unknown });
    expect(sub).toMatchObject({ ok: false });
  });

  it('delivers a subscribed run its current state first, then its live events', async () => {
    const owner = await connectClient(test.url, { clientId: 'someone-else' });
    const a = await submit(test, gateWorkflow('resubscribe'), 'someone-else');
    await atGate(owner, a.runId);
    owner.close();
    const late = await connectClient(test.url);
    const ack = await late.socket.emitWithAck('subscribe', { runId: a.runId });
    expect(ack.ok && ack.run.status).toBe('running');
    expect(late.events[0]).toMatchObject({ type: 'run:state', runId: a.runId });
    const state = late.events[0] as Extract<ServerEvent, { type: 'run:state' }>;
    expect(state.run.nodes).toEqual([
      expect.objectContaining({ nodeId: 'gate', state: 'running', progress: { step: 0, total: 1 } }),
    ]);
    openGate('resubscribe');
    const detail = await runEnd(test, late, a.runId);
    expect(detail.status).toBe('succeeded');
    expect(eventsOf(late.events, a.runId).map((e) => e.type)).toEqual([
      'run:state',
      'node:progress',
      'node:done',
      'run:done',
    ]);
    late.close();
  });
});

describe('limits of the queue', () => {
  it('refuses more queued runs per client than the limit with 429', async () => {
    const test = await startTestServer({ limits: { maxQueuedPerClient: 2 } });
    try {
      const greedy = await connectClient(test.url, { clientId: 'greedy' });
      const first = await submit(test, gateWorkflow('limit'), 'greedy');
      await atGate(greedy, first.runId);
      greedy.close();
      await submit(test, textWorkflow('l1'), 'greedy');
      await submit(test, textWorkflow('l2'), 'greedy');
      const refused = await test.api
        .post('/api/runs')
        .send({ workflow: textWorkflow('l3'), clientId: 'greedy' })
        .expect(429);
      expect(refused.body.errors[0].code).toBe('queue_full');
      await submit(test, textWorkflow('other client'), 'modest');
      openGate('limit');
    } finally {
      await test.close();
    }
  });
});

describe('persistence', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'diffedit-persist-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps history and files across a restart, and runs what was still queued', async () => {
    const first = await startTestServer({ dataDir });
    const client = await connectClient(first.url, { clientId: 'p' });
    const done = await submit(first, textWorkflow('before restart'), 'p');
    const finished = await runEnd(first, client, done.runId);
    expect(finished.files).toHaveLength(1);
    const running = await submit(first, gateWorkflow('restart'), 'p');
    await atGate(client, running.runId);
    const queued = [
      await submit(first, textWorkflow('q1'), 'p'),
      await submit(first, textWorkflow('q2'), 'p'),
    ];
    client.close();
    await first.close(); // SIGTERM's path: the running run is cancelled, the queued ones stay queued

    const second = await startTestServer({ dataDir });
    try {
      const watcher = await connectClient(second.url);
      for (const q of queued) {
        await watcher.socket.emitWithAck('subscribe', { runId: q.runId });
        expect((await runEnd(second, watcher, q.runId)).status).toBe('succeeded');
      }
      watcher.close();
      expect((await second.api.get(`/api/runs/${running.runId}`).expect(200)).body.status).toBe('cancelled');
      const before = await second.api.get(`/api/runs/${done.runId}`).expect(200);
      expect(before.body.status).toBe('succeeded');
      const file = await second.api.get(before.body.files[0].url).expect(200);
      expect(file.text).toBe('before restart\n');
      const list = await second.api.get('/api/runs').expect(200);
      expect(list.body.runs.map((r: RunDetail) => r.runId)).toEqual([
        queued[1].runId,
        queued[0].runId,
        running.runId,
        done.runId,
      ]);
    } finally {
      await second.close();
    }
  });

  it('marks the run that was executing when the process was killed (-9) as failed, and runs the queued one', async () => {
    const killedDir = await mkdtemp(join(tmpdir(), 'diffedit-kill-'));
    const child = spawn(
      process.execPath,
      [new URL('./serve-child.mjs', import.meta.url).pathname, killedDir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`the child server exited with ${code}`)));
      });
      const { url } = JSON.parse(line) as { url: string };
      const api = request(url);
      const client = await connectClient(url, { clientId: 'k' });
      const running = (
        await api
          .post('/api/runs')
          .send({ workflow: gateWorkflow('forever'), clientId: 'k' })
          .expect(202)
      ).body as { runId: string };
      await waitForEvent(client, (e) => e.type === 'node:start' && e.runId === running.runId);
      const queued = (
        await api
          .post('/api/runs')
          .send({ workflow: textWorkflow('after kill'), clientId: 'k' })
          .expect(202)
      ).body as { runId: string };
      client.close();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      expect(await exited).toBe(null);

      const restarted = await startTestServer({ dataDir: killedDir });
      try {
        const failed = await restarted.api.get(`/api/runs/${running.runId}`).expect(200);
        expect(failed.body.status).toBe('failed');
        expect(failed.body.error).toMatchObject({ code: 'server_restarted', nodeId: 'gate' });
        expect(failed.body.nodes).toEqual([expect.objectContaining({ nodeId: 'gate', state: 'failed' })]);
        const watcher = await connectClient(restarted.url);
        await watcher.socket.emitWithAck('subscribe', { runId: queued.runId });
        expect((await runEnd(restarted, watcher, queued.runId)).status).toBe('succeeded');
        watcher.close();
      } finally {
        await restarted.close();
      }
    } finally {
      child.kill('SIGKILL');
      await rm(killedDir, { recursive: true, force: true });
    }
  });
});
