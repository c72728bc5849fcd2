import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Health, RunDetail } from '@diffedit/core';

import { startServer } from '../server/server.js';
import type { BenchCheck } from './bench-report.js';
import type { BenchContext } from './resources.js';
import { round3 } from './stats.js';
import type { BenchOutcome } from './suite.js';

/** The target of issue 10: the API answers while a run's inference works in the worker. */
const P99_TARGET_MS = 50;

/**
 * GET /api/health, one request after another, while the server runs the default workflow from an empty cache
 * (the first repetition also opens the model sessions): how long a client waits for an answer mid-run. Runs
 * execute in the server's run worker, so this thread only answers requests and relays events.
 */
export async function serverApiLatency(ctx: BenchContext): Promise<BenchOutcome> {
  const repetitions = ctx.quick ? 1 : 3;
  const dataDir = await mkdtemp(join(tmpdir(), 'diffedit-bench-server-'));
  const server = await startServer({
    port: 0,
    dataDir,
    modelsDir: ctx.modelsDir,
    log: ctx.log,
    ...(ctx.providers === undefined ? {} : { providers: ctx.providers }),
  });
  const latencies: number[] = [];
  const runMs: number[] = [];
  try {
    const workflow = JSON.parse(await readFile(ctx.workflowPath, 'utf8')) as unknown;
    for (let i = 0; i < repetitions; i++) {
      ctx.log(`  run ${i + 1}/${repetitions} with GET /api/health in a loop`);
      await fetch(`${server.url}/api/cache`, { method: 'DELETE' });
      const submitted = await fetch(`${server.url}/api/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ workflow }),
      });
      if (submitted.status !== 202)
        throw new Error(`POST /api/runs answered ${submitted.status}: ${await submitted.text()}`);
      const { runId } = (await submitted.json()) as { runId: string };
      for (;;) {
        const started = performance.now();
        const health = (await (await fetch(`${server.url}/api/health`)).json()) as Health;
        latencies.push(performance.now() - started);
        if (health.queue.running === null && health.queue.queued === 0) break;
      }
      const run = (await (await fetch(`${server.url}/api/runs/${runId}`)).json()) as RunDetail;
      if (run.status !== 'succeeded')
        throw new Error(`the run ended ${run.status}: ${run.error?.message ?? ''}`);
      runMs.push(run.ms ?? 0);
    }
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  const p99 = round3(percentile(latencies, 99));
  const checks: BenchCheck[] = [
    {
      name: `api_latency_p99_ms < ${P99_TARGET_MS}`,
      ok: p99 < P99_TARGET_MS,
      detail: `p99 ${p99} ms over ${latencies.length} requests during ${repetitions} run(s)`,
    },
  ];
  return {
    params: { route: 'GET /api/health', workflow: ctx.workflowPath, repetitions },
    samples: latencies,
    details: {
      api_latency_p99_ms: p99,
      api_latency_max_ms: round3(Math.max(...latencies)),
      requests: latencies.length,
      run_ms: runMs.map(round3),
    },
    checks,
  };
}

/** The nearest-rank percentile of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
