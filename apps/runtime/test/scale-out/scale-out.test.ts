import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Queue } from 'bullmq';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { ApiIssue, RunDetail } from '@diffedit/core';
import { createRuntime } from '@diffedit/runtime';

import { connect, keys, PREFIX } from '../../src/scale-out/protocol.js';
import { runBash } from '../bash-script.js';
import { runCliCaptured } from '../capture-cli.js';
import { startTestServer, textWorkflow } from '../server/harness.js';
import type { TestServer } from '../server/harness.js';
import {
  cli,
  fileGateWorkflow,
  freePort,
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
  /** Stops the server, does `whileStopped`, and starts it again on the same data folder. */
  restartServer(whileStopped?: () => Promise<void>): Promise<void>;
} {
  let redis: TestRedis;
  let server: TestServer;
  let dataDir: string;
  const workers: TestWorker[] = [];
  const serve = (): Promise<TestServer> =>
    startTestServer({
      queue: redis.url,
      dataDir,
      ...(process.env.SCALE_DEBUG ? { log: (line: string) => console.error(line) } : {}),
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
    async restartServer(whileStopped) {
      await server.close();
      await whileStopped?.();
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

describe.skipIf(skipRedis)('serve --queue with worker processes', { timeout: 120_000 }, () => {
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
      // Output previews (a message kind of the run worker protocol) come through the queue like the rest.
      const previewed = runs[0].nodes.filter((n) => (n.previews ?? []).length > 0).map((n) => n.nodeId);
      expect(previewed).toEqual(expect.arrayContaining(['image', 'mask', 'grid']));
      const preview = await test.api
        .get(runs[0].nodes.find((n) => n.nodeId === 'grid')!.previews![0].url)
        .expect(200);
      expect(preview.headers['content-type']).toBe('image/png');

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

  describe('diffedit batch through a queue server', () => {
    const c = cluster();

    it('runs the documented CSV batch on two workers, uploads included: the pixels of a local batch', async () => {
      await Promise.all([c.worker('b1'), c.worker('b2')]);
      const test = c.server();
      await workersSeen(test, ['b1', 'b2']);
      const csv = join(root, 'docs/examples/batch-prompts.csv');
      const workflow = join(root, 'workflows/diffedit-prompts.json');
      const cheap = ['mask.num_inference_steps=10', 'invert.num_inference_steps=10'].flatMap((v) => [
        '--set',
        v,
      ]);
      const queued = join(work, 'batch-queue');
      const remote = await runCliCaptured([
        'batch',
        workflow,
        '--set-from',
        csv,
        '--out',
        queued,
        '--server',
        test.url,
        ...cheap,
      ]);
      expect(remote.code, remote.stderr).toBe(0);
      const local = join(work, 'batch-local');
      const here = await runCliCaptured(['batch', workflow, '--set-from', csv, '--out', local, ...cheap], {
        runtimeOptions: { modelsDir: models },
      });
      expect(here.code, here.stderr).toBe(0);
      const summary = JSON.parse(await readFile(join(queued, 'summary.json'), 'utf8')) as {
        status: string;
        rows: { name: string; runId: string; outputs: string[] }[];
      };
      expect(summary.status).toBe('succeeded');
      const workers = new Set<string>();
      for (const row of summary.rows) {
        workers.add((await getRun(test, row.runId)).worker!);
        const png = row.outputs.find((o) => o.endsWith('.png'))!;
        const same = (await pixels(await readFile(join(queued, png)))).equals(
          await pixels(await readFile(join(local, png))),
        );
        expect(same, `${row.name}: the queue's pixels differ from the local batch's`).toBe(true);
      }
      expect(summary.rows).toHaveLength(3);
      expect([...workers].every((w) => ['b1', 'b2'].includes(w))).toBe(true);
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

    it('a worker killed while running a run from its own (affinity) queue: the run moves to another', async () => {
      const test = c.server();
      const [w1, w2] = await Promise.all([c.worker('o1'), c.worker('o2')]);
      await workersSeen(test, ['o1', 'o2']);
      // A first run of this workflow makes its worker the preferred one; the second goes to that worker's queue.
      const opened = join(work, 'own-open');
      await openFileGate(opened);
      const first = await runFinished(test, await submit(test, fileGateWorkflow(opened, 'own')));
      const flag = join(work, 'own-killed');
      const runId = await submit(test, fileGateWorkflow(flag, 'own'));
      expect((await startedOn(test, runId)).worker).toBe(first.worker);
      await (first.worker === 'o1' ? w1 : w2).kill();
      // No other worker watches that queue: the server moves the job to the shared queue once its lock expires.
      const second = await startedOn(test, runId, 2);
      expect(second.worker).not.toBe(first.worker);
      await openFileGate(flag);
      expect(await runFinished(test, runId)).toMatchObject({ status: 'succeeded', attempts: 2 });
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

  describe('cancel and restart', () => {
    const c = cluster();

    it('cancels a run executing in a worker process, and one still waiting in the queue', async () => {
      const test = c.server();
      await c.worker('k1');
      await workersSeen(test, ['k1']);
      const runId = await submit(test, fileGateWorkflow(join(work, 'cancel-never')));
      await startedOn(test, runId);
      const waiting = await submit(test, textWorkflow('never runs'));
      expect((await getRun(test, waiting)).status).toBe('queued');

      const cancelledWaiting = await test.api.delete(`/api/runs/${waiting}`).expect(200);
      expect(cancelledWaiting.body).toMatchObject({ status: 'cancelled' });
      const cancelled = await test.api.delete(`/api/runs/${runId}`).expect(200);
      expect(cancelled.body).toMatchObject({ status: 'cancelled', worker: 'k1' });
      expect((cancelled.body as RunDetail).nodes.map((n) => n.state)).toEqual(['cancelled']);

      // The worker is free again, and the waiting run never started.
      const next = await submit(test, textWorkflow('after the cancel'));
      const run = await runFinished(test, next);
      expect(run).toMatchObject({ status: 'succeeded', worker: 'k1' });
      const value = await test.api.get(run.files[0].url).expect(200);
      expect(value.text).toBe('after the cancel\n');
      const never = await getRun(test, waiting);
      expect(never).toMatchObject({ status: 'cancelled', nodes: [] });
      expect(never.worker).toBeUndefined();
    });

    it('a server restart loses nothing: the running run and the queued ones complete', async () => {
      await c.worker('s1');
      await workersSeen(c.server(), ['s1']);
      const flag = join(work, 'restart');
      const gated = await submit(c.server(), fileGateWorkflow(flag));
      await startedOn(c.server(), gated);
      const queued = [];
      for (const text of ['one', 'two', 'three']) queued.push(await submit(c.server(), textWorkflow(text)));

      await c.restartServer();
      const test = c.server();
      await openFileGate(flag);
      const gate = await runFinished(test, gated);
      expect(gate).toMatchObject({ status: 'succeeded', worker: 's1', attempts: 1 });
      const texts = [];
      for (const runId of queued) {
        const run = await runFinished(test, runId);
        expect(run.status, JSON.stringify(run)).toBe('succeeded');
        texts.push((await test.api.get(run.files[0].url).expect(200)).text.trim());
      }
      expect(texts).toEqual(['one', 'two', 'three']);
    });

    it('a run recorded in a queue that lacks its job (the server stopped between the two) is queued again', async () => {
      await c.worker('r1');
      await workersSeen(c.server(), ['r1']);
      // The worker is busy: the next run waits in the queue.
      const flag = join(work, 'queued-again');
      const gated = await submit(c.server(), fileGateWorkflow(flag));
      await startedOn(c.server(), gated);
      const runId = await submit(c.server(), textWorkflow('queued again'));
      const redis = connect(c.redis().url, 'scale-out-test');
      try {
        const recorded = await until(
          async () => (await redis.get(keys.jobQueue(runId))) ?? undefined,
          `run ${runId} to be queued`,
        );
        // What a server stopped between recording the queue and adding the job leaves behind.
        await c.restartServer(async () => {
          const queue = new Queue(recorded, { connection: redis, prefix: PREFIX });
          await queue.remove(runId);
          expect(await queue.getJob(runId)).toBeUndefined();
          await queue.close();
        });
        await openFileGate(flag);
        expect((await runFinished(c.server(), gated)).status).toBe('succeeded');
        const run = await runFinished(c.server(), runId);
        expect(run.status, JSON.stringify(run)).toBe('succeeded');
        expect((await c.server().api.get(run.files[0].url).expect(200)).text).toBe('queued again\n');
      } finally {
        redis.disconnect();
      }
    });
  });

  describe('routing and cache affinity', () => {
    const c = cluster();
    let blipOnly: string;
    beforeAll(async () => {
      blipOnly = join(work, 'models-blip-only');
      await mkdir(blipOnly, { recursive: true });
      await cp(join(models, 'toy-blip'), join(blipOnly, 'toy-blip'), { recursive: true });
    });

    it('refuses a run whose models no live worker holds, naming node and field; sends runs only to holders', async () => {
      const test = c.server();
      const none = await test.api
        .post('/api/runs')
        .send({ workflow: diffedit('a pear') })
        .expect(503);
      expect((none.body as { errors: ApiIssue[] }).errors[0]).toMatchObject({
        nodeId: null,
        code: 'no_worker',
      });

      await c.worker('blip', { models: blipOnly });
      await workersSeen(test, ['blip']);
      const refused = await test.api
        .post('/api/runs')
        .send({ workflow: diffedit('a pear') })
        .expect(503);
      expect((refused.body as { errors: ApiIssue[] }).errors).toEqual([
        {
          nodeId: 'model',
          field: 'model',
          code: 'no_worker_for_model',
          message: "no live worker holds the model 'toy-sd' (the workers hold: toy-blip)",
        },
      ]);

      await c.worker('full');
      await workersSeen(test, ['blip', 'full']);
      // Keep the full worker busy: a run that needs toy-sd must still wait for it, never go to 'blip'.
      const flag = join(work, 'routing');
      const gated = await submit(test, fileGateWorkflow(flag));
      const busy = await startedOn(test, gated);
      const other = busy.worker === 'full' ? 'blip' : 'full';
      const needsSd = [await submit(test, diffedit('a pear')), await submit(test, diffedit('a plum'))];
      const anyWorker = await submit(test, textWorkflow('anywhere'));
      if (other === 'full') {
        // The gate went to 'blip': the toy-sd runs run on 'full' meanwhile.
        for (const runId of needsSd) expect(await runFinished(test, runId)).toMatchObject({ worker: 'full' });
      } else {
        // 'full' is busy: the run any worker can serve goes to 'blip'; the toy-sd runs wait.
        expect(await runFinished(test, anyWorker)).toMatchObject({ status: 'succeeded', worker: 'blip' });
        for (const runId of needsSd) expect((await getRun(test, runId)).status).toBe('queued');
      }
      await openFileGate(flag);
      for (const runId of needsSd)
        expect(await runFinished(test, runId)).toMatchObject({ status: 'succeeded', worker: 'full' });
      expect((await runFinished(test, anyWorker)).status).toBe('succeeded');
    });

    it('a re-run goes back to the worker holding its cached intermediates, or to another when it is busy', async () => {
      const test = c.server();
      await Promise.all([c.worker('p'), c.worker('q')]);
      await workersSeen(test, ['p', 'q']);
      // Occupy one worker (B), so that the first DiffEdit run lands on the other (A).
      const gateB = join(work, 'affinity-b');
      const holdB = await submit(test, fileGateWorkflow(gateB, 'holdB'));
      const B = (await startedOn(test, holdB)).worker!;
      const first = await runFinished(test, await submit(test, diffedit('a green pear')));
      const A = first.worker!;
      expect(A).not.toBe(B);
      // A gate workflow of another shape, run on A too, so that A can be made busy later.
      const gateA = join(work, 'affinity-a');
      const opened = join(work, 'affinity-open');
      await openFileGate(opened);
      const holdA1 = await runFinished(test, await submit(test, fileGateWorkflow(opened, 'holdA')));
      expect(holdA1.worker).toBe(A);
      await openFileGate(gateB);
      await runFinished(test, holdB);

      // Both idle: every edit goes back to A and re-uses the cached inversion.
      for (const target of ['a blue cup', 'a yellow banana']) {
        const run = await runFinished(test, await submit(test, diffedit(target)));
        expect(run).toMatchObject({ status: 'succeeded', worker: A });
        expect(run.cached).toContain('invert');
      }
      // A busy (its gate workflow goes back to it): the edit falls back to B, which computes everything.
      const holdA2 = await submit(test, fileGateWorkflow(gateA, 'holdA'));
      expect((await startedOn(test, holdA2)).worker).toBe(A);
      const fallback = await runFinished(test, await submit(test, diffedit('a red cup')));
      expect(fallback).toMatchObject({ status: 'succeeded', worker: B });
      expect(fallback.cached).toEqual([]);
      await openFileGate(gateA);
      expect((await runFinished(test, holdA2)).status).toBe('succeeded');
    });

    it('a worker that loses its Redis connection mid-run reconnects and finishes the run', async () => {
      const test = c.server();
      await c.worker('n1');
      await workersSeen(test, ['n1']);
      const flag = join(work, 'reconnect');
      const runId = await submit(test, fileGateWorkflow(flag));
      await startedOn(test, runId);
      // Drop every client connection (the worker's, BullMQ's, the server's): ioredis reconnects them.
      const killed = Number(await c.redis().command('CLIENT', 'KILL', 'TYPE', 'normal'));
      await c.redis().command('CLIENT', 'KILL', 'TYPE', 'pubsub');
      expect(killed).toBeGreaterThan(2);
      await openFileGate(flag);
      const run = await runFinished(test, runId);
      expect(run).toMatchObject({ status: 'succeeded', worker: 'n1', attempts: 1 });
      const next = await runFinished(test, await submit(test, textWorkflow('still connected')));
      expect(next).toMatchObject({ status: 'succeeded', worker: 'n1' });
    });
  });

  describe('docs/scale-out.md', () => {
    const doc = readFileSync(join(root, 'docs/scale-out.md'), 'utf8');
    const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);

    const bash = (script: string, env: Record<string, string>) => runBash(script, root, env);

    it('runs "Try it on one machine" as written: two workers, a DiffEdit run through the queue', async () => {
      const result = await bash(blocks[0], {
        REDIS_PORT: String(await freePort()),
        PORT: String(await freePort()),
      });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toContain('worker-a: toy-blip toy-flan-t5 toy-sd');
      expect(result.stdout).toContain('worker-b: toy-blip toy-flan-t5 toy-sd');
      expect(result.stdout).toMatch(/^succeeded worker-[ab] 1 \/api\/files\/out_[0-9a-f]{32}\.png$/m);
    });

    it('runs the several-machines commands (with loopback values), password and token included', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'diffedit-scale-out-doc-'));
      const env = {
        REDIS_HOST: '127.0.0.1',
        REDIS_BIND: '127.0.0.1',
        REDIS_PORT: String(await freePort()),
        REDIS_PASSWORD: 'a-redis-password',
        REDIS_DIR: dir,
        SERVER_HOST: '127.0.0.1',
        PORT: String(await freePort()),
        DIFFEDIT_TOKEN: 'a-server-token',
        DATA: join(dir, 'data'),
        MODELS: models,
      };
      // The doc's lines start the three parts; this test then waits for them, runs a workflow and stops them.
      const script = [
        'set -m',
        `trap 'for job in $(jobs -p); do kill -- -$job || true; done; wait; redis-cli -p $REDIS_PORT -a $REDIS_PASSWORD --no-auth-warning shutdown' EXIT`,
        blocks[1],
        'BASE=http://127.0.0.1:$PORT; AUTH="authorization: Bearer $DIFFEDIT_TOKEN"',
        `until curl -fsS -H "$AUTH" $BASE/api/health 2>/dev/null | grep -q '"models":\\["toy-blip"'; do sleep 0.2; done`,
        `curl -sS -o /dev/null -w '%{http_code}\\n' $BASE/api/health`,
        `RUN_ID=$(curl -fsS -H "$AUTH" -H 'content-type: application/json' -d '{"workflow":${JSON.stringify(textWorkflow('through the queue'))}}' $BASE/api/runs | node -pe 'JSON.parse(require("fs").readFileSync(0)).runId')`,
        `until curl -fsS -H "$AUTH" $BASE/api/runs/$RUN_ID | grep -q '"status":"succeeded"'; do sleep 0.2; done`,
        `curl -fsS -H "$AUTH" $BASE/api/runs/$RUN_ID | node -pe 'const r = JSON.parse(require("fs").readFileSync(0)); r.status + " " + r.files.length'`,
      ].join('\n');
      try {
        const result = await bash(script, env);
        expect(result.status, result.stderr).toBe(0);
        expect(result.stdout).toMatch(/^401$/m); // the API wants the token
        expect(result.stdout).toMatch(/^succeeded 1$/m);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
