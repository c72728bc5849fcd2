import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { ApiIssue, RunDetail } from '@diffedit/core';
import { createRuntime } from '@diffedit/runtime';

import { startTestServer, textWorkflow } from '../server/harness.js';
import type { TestServer } from '../server/harness.js';
import {
  cli,
  fileGateWorkflow,
  getRun,
  openFileGate,
  root,
  runFinished,
  skipRedis,
  startRedis,
  startWorker,
  until,
  workersSeen,
} from './harness.js';
import type { TestRedis, TestWorker } from './harness.js';

const prompts = JSON.parse(await readFile(join(root, 'workflows/diffedit-prompts.json'), 'utf8')) as {
  nodes: { id: string; params: Record<string, unknown> }[];
};

/** The shipped DiffEdit workflow with another target prompt. */
function diffedit(target: string): object {
  const workflow = structuredClone(prompts);
  workflow.nodes.find((n) => n.id === 'target')!.params.text = target;
  return workflow;
}

/** Decoded RGBA pixels of a PNG. */
async function pixels(png: Uint8Array): Promise<Buffer> {
  return sharp(png).ensureAlpha().raw().toBuffer();
}

let work: string;
let models: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'diffedit-scale-out-'));
  models = join(work, 'models');
  const made = spawnSync(process.execPath, [cli, 'toy-pack', '--models', models], { encoding: 'utf8' });
  expect(made.status, made.stderr).toBe(0);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** One Redis, one server (in this process), and worker processes started per test; all stopped after. */
function cluster(options: { maxAttempts?: number } = {}): {
  redis: () => TestRedis;
  server: () => TestServer;
  workers: TestWorker[];
  worker(id: string, extra?: { models?: string; lockMs?: number }): Promise<TestWorker>;
  restartServer(): Promise<void>;
} {
  let redis: TestRedis;
  let server: TestServer;
  let dataDir: string;
  const workers: TestWorker[] = [];
  const serve = (): Promise<TestServer> =>
    startTestServer({
      queue: redis.url,
      dataDir,
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    });
  beforeAll(async () => {
    redis = await startRedis();
    dataDir = await mkdtemp(join(tmpdir(), 'diffedit-scale-out-data-'));
    server = await serve();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill()));
  });
  afterAll(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill()));
    await server?.close();
    await redis?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return {
    redis: () => redis,
    server: () => server,
    workers,
    async worker(id, extra = {}) {
      const worker = await startWorker(redis.url, {
        id,
        models: extra.models ?? models,
        ...(extra.lockMs ? { lockMs: extra.lockMs } : {}),
      });
      workers.push(worker);
      return worker;
    },
    async restartServer() {
      await server.close();
      server = await serve();
    },
  };
}

async function submit(test: TestServer, workflow: object): Promise<string> {
  const response = await test.api.post('/api/runs').send({ workflow });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return (response.body as { runId: string }).runId;
}

/** Waits until a queue worker has started the run (attempt `attempt` at least) and returns it. */
function startedOn(test: TestServer, runId: string, attempt = 1): Promise<RunDetail> {
  return until(async () => {
    const run = await getRun(test, runId);
    return run.status === 'running' && (run.attempts ?? 0) >= attempt && run.nodes.length > 0
      ? run
      : undefined;
  }, `run ${runId} to start (attempt ${attempt})`);
}

describe.skipIf(skipRedis)('serve --queue with worker processes', () => {
  describe('many runs on three workers', () => {
    const c = cluster();

    it('spreads runs over the workers, and every run gives the same pixels as a local run', async () => {
      await Promise.all(['a', 'b', 'c'].map((id) => c.worker(id)));
      const test = c.server();
      await workersSeen(test, ['a', 'b', 'c']);

      // Three gated runs at once: each worker takes one (a worker runs one run at a time).
      const flags = [0, 1, 2].map((i) => join(work, `spread-${i}`));
      const gated = await Promise.all(
        flags.map((flag, i) => submit(test, fileGateWorkflow(flag, `gate${i}`))),
      );
      const started = await Promise.all(gated.map((id) => startedOn(test, id)));
      expect(started.map((r) => r.worker).sort()).toEqual(['a', 'b', 'c']);
      await Promise.all(flags.map(openFileGate));
      for (const id of gated) expect((await runFinished(test, id)).status).toBe('succeeded');

      const targets = ['a green pear', 'a blue cup', 'a yellow banana'];
      const runIds: { target: string; runId: string }[] = [];
      for (let i = 0; i < 9; i++) {
        const target = targets[i % 3];
        runIds.push({ target, runId: await submit(test, diffedit(target)) });
      }
      const runs = await Promise.all(runIds.map(({ runId }) => runFinished(test, runId, 300_000)));
      expect(runs.map((r) => r.status)).toEqual(Array(9).fill('succeeded'));
      expect(runs.every((r) => ['a', 'b', 'c'].includes(r.worker!))).toBe(true);

      // The reference: the same workflows run locally, in this process.
      const local = createRuntime({ modelsDir: models, inputsDir: join(root, 'workflows'), log: () => {} });
      try {
        const expected = new Map<string, Buffer>();
        for (const target of targets) {
          const result = await local.run(diffedit(target));
          expect(result.status).toBe('done');
          expected.set(target, await pixels(result.artifacts[0].bytes));
        }
        for (const [i, run] of runs.entries()) {
          expect(run.files).toHaveLength(1);
          const png = await test.api.get(run.files[0].url).expect(200).buffer(true);
          const got = await pixels(png.body as Buffer);
          expect(got.equals(expected.get(runIds[i].target)!), `run ${i} (${runIds[i].target})`).toBe(true);
        }
      } finally {
        await local.close();
      }
    });
  });

  describe('reliability', () => {
    const c = cluster({ maxAttempts: 2 });

    it('a worker killed mid-run (SIGKILL): the run is retried on another worker and completes', async () => {
      const test = c.server();
      const [w1, w2] = await Promise.all([c.worker('r1'), c.worker('r2')]);
      await workersSeen(test, ['r1', 'r2']);
      const flag = join(work, 'killed');
      const runId = await submit(test, fileGateWorkflow(flag));
      const first = await startedOn(test, runId);
      const victim = first.worker === 'r1' ? w1 : w2;
      const survivor = victim === w1 ? 'r2' : 'r1';
      await victim.kill();
      // BullMQ finds the job's lock expired (stalled) and hands it to the other worker.
      const second = await startedOn(test, runId, 2);
      expect(second.worker).toBe(survivor);
      await openFileGate(flag);
      const run = await runFinished(test, runId);
      expect(run).toMatchObject({ status: 'succeeded', worker: survivor, attempts: 2 });
      expect(run.nodes.map((n) => n.state)).toEqual(['ran']);
    });

    it('when every attempt loses its worker, the run fails with the reason', async () => {
      const test = c.server();
      const [w1, w2] = await Promise.all([c.worker('x1'), c.worker('x2')]);
      await workersSeen(test, ['x1', 'x2']);
      const runId = await submit(test, fileGateWorkflow(join(work, 'never-opened')));
      const first = await startedOn(test, runId);
      await (first.worker === 'x1' ? w1 : w2).kill();
      const second = await startedOn(test, runId, 2);
      expect(second.worker).not.toBe(first.worker);
      await (second.worker === 'x1' ? w1 : w2).kill();
      // A third worker would start it a third time: the limit (2) says no.
      await c.worker('x3');
      const run = await runFinished(test, runId);
      expect(run.status).toBe('failed');
      expect(run.error).toMatchObject({ nodeId: null, code: 'worker_lost' });
      expect(run.error!.message).toMatch(/started 2 times .*worker was lost.*limit is 2/);
    });
  });
});
