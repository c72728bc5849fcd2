import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { RunDetail } from '@diffedit/core';

import { redisServerPath, startLocalRedis, stopChild, waitForLine } from '../scale-out/local-processes.js';
import type { LocalRedis } from '../scale-out/local-processes.js';
import { startServer } from '../server/server.js';
import type { BenchContext } from './resources.js';
import { round3 } from './stats.js';
import type { BenchOutcome } from './suite.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
const TARGETS = ['a green pear', 'a blue cup', 'a yellow banana', 'a red cup', 'a white mug', 'an orange'];

/**
 * `serve --queue` throughput: one server, Redis, and 1, 2, then 3 `diffedit worker` processes (one onnxruntime
 * thread each) on the toy models. Each round warms every worker, then times a batch of DiffEdit runs submitted
 * at once (different target prompts): runs per minute. Scaling depends on the cores free on this machine; the
 * figure is reported, never asserted.
 */
export async function scaleOutThroughput(ctx: BenchContext): Promise<BenchOutcome> {
  const redisServer = redisServerPath();
  if (redisServer === undefined)
    throw new Error('redis-server is not installed (apt-get install redis-server)');
  const runs = ctx.quick ? 6 : 12;
  const dir = await mkdtemp(join(tmpdir(), 'diffedit-bench-scale-out-'));
  const children: ChildProcess[] = [];
  const rounds: {
    workers: number;
    runs: number;
    ms: number;
    runsPerMinute: number;
    perWorker: Record<string, number>;
  }[] = [];
  let redis: LocalRedis | undefined;
  try {
    redis = await startLocalRedis(redisServer);
    const url = redis.url;
    const server = await startServer({ port: 0, dataDir: join(dir, 'data'), queue: url, log: ctx.log });
    try {
      const base = JSON.parse(await readFile(ctx.workflowPath, 'utf8')) as {
        nodes: { id: string; params: Record<string, unknown> }[];
      };
      const workflow = (target: string): unknown => {
        const w = structuredClone(base);
        w.nodes.find((n) => n.id === 'target')!.params.text = target;
        return w;
      };
      for (let count = 1; count <= 3; count++) {
        const workers: ChildProcess[] = [];
        for (let i = 0; i < count; i++) {
          const child = spawn(
            process.execPath,
            [
              CLI,
              'worker',
              '--queue',
              url,
              '--id',
              `bench-${count}-${i}`,
              '--models',
              ctx.modelsDir,
              '--threads',
              '1',
            ],
            { stdio: ['ignore', 'ignore', 'pipe'] },
          );
          children.push(child);
          workers.push(child);
          await waitForLine(child, 'stderr', /takes runs from/, `worker bench-${count}-${i}`);
        }
        await until(async () => {
          const health = (await (await fetch(`${server.url}/api/health`)).json()) as { workers?: unknown[] };
          return (health.workers ?? []).length === count;
        });
        ctx.log(`  ${count} worker(s): warming up, then ${runs} runs at once`);
        await batch(
          server.url,
          Array.from({ length: count }, (_, i) => workflow(`warm ${i}`)),
        );
        const started = performance.now();
        const done = await batch(
          server.url,
          Array.from({ length: runs }, (_, i) => workflow(TARGETS[i % TARGETS.length])),
        );
        const ms = performance.now() - started;
        const perWorker: Record<string, number> = {};
        for (const run of done) perWorker[run.worker ?? '?'] = (perWorker[run.worker ?? '?'] ?? 0) + 1;
        rounds.push({
          workers: count,
          runs,
          ms: round3(ms),
          runsPerMinute: round3((runs / ms) * 60_000),
          perWorker,
        });
        await Promise.all(workers.map((w) => stopChild(w)));
      }
    } finally {
      await server.close();
    }
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const one = rounds[0].runsPerMinute;
  return {
    params: { workflow: ctx.workflowPath, runsPerBatch: runs, threadsPerWorker: 1, workers: [1, 2, 3] },
    samples: rounds.map((r) => r.ms),
    details: {
      rounds,
      runsPerMinute: Object.fromEntries(rounds.map((r) => [`${r.workers}`, r.runsPerMinute])),
      speedup: Object.fromEntries(rounds.map((r) => [`${r.workers}`, round3(r.runsPerMinute / one)])),
      loadAverage1m: round3(loadavg()[0]),
    },
  };
}

/** Submits the workflows at once and waits until every run has ended; all must succeed. */
async function batch(base: string, workflows: unknown[]): Promise<RunDetail[]> {
  const ids: string[] = [];
  for (const workflow of workflows) {
    const response = await fetch(`${base}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workflow }),
    });
    if (response.status !== 202)
      throw new Error(`POST /api/runs answered ${response.status}: ${await response.text()}`);
    ids.push(((await response.json()) as { runId: string }).runId);
  }
  const runs: RunDetail[] = [];
  for (const id of ids) {
    const run = await until(async () => {
      const detail = (await (await fetch(`${base}/api/runs/${id}`)).json()) as RunDetail;
      return ['succeeded', 'failed', 'cancelled'].includes(detail.status) ? detail : undefined;
    });
    if (run.status !== 'succeeded')
      throw new Error(`run ${id} ended ${run.status}: ${run.error?.message ?? ''}`);
    runs.push(run);
  }
  return runs;
}

async function until<T>(check: () => Promise<T | undefined | false>, ms = 300_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
