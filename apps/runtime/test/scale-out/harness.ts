import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Health, RunDetail } from '@diffedit/core';

import {
  redisServerPath,
  startLocalRedis,
  stopChild,
  waitForLine,
} from '../../src/scale-out/local-processes.js';
import type { TestServer } from '../server/harness.js';

export { freePort } from '../../src/scale-out/local-processes.js';

export const root = fileURLToPath(new URL('../../../../', import.meta.url));
export const cli = join(root, 'apps/runtime/dist/cli.js');
export const TEST_NODES = new URL('../server/test-nodes.mjs', import.meta.url).href;

/**
 * redis-server from Debian's package (.ci/run installs it). Without it these tests fail, saying so — unless
 * DIFFEDIT_SKIP_REDIS_TESTS=1 (a local opt-out; CI never sets it).
 */
export const skipRedis = redisServerPath() === undefined && process.env.DIFFEDIT_SKIP_REDIS_TESTS === '1';
export function requireRedis(): string {
  const path = redisServerPath();
  if (path === undefined)
    throw new Error(
      'redis-server is not installed: the scale-out tests need it (apt-get install redis-server, as .ci/run ' +
        'does). Set DIFFEDIT_SKIP_REDIS_TESTS=1 to skip them on a machine without it.',
    );
  return path;
}

export interface TestRedis {
  url: string;
  port: number;
  /** redis-cli-like command through a short-lived connection. */
  command(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** A redis-server on a free loopback port with a temporary folder, no persistence. */
export async function startRedis(): Promise<TestRedis> {
  const path = requireRedis();
  const server = await startLocalRedis(path);
  const { url } = server;
  return {
    url,
    port: server.port,
    command: async (...args) => {
      const { Redis } = await import('ioredis');
      const redis = new Redis(url);
      try {
        return String(await redis.call(args[0], ...args.slice(1)));
      } finally {
        redis.disconnect();
      }
    },
    stop: server.stop,
  };
}

export interface TestWorker {
  id: string;
  child: ChildProcess;
  stderr(): string;
  /** SIGKILL: the worker dies without a word, mid-run. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** A `diffedit worker` process (the CLI as documented), with the test nodes, one onnxruntime thread. */
export async function startWorker(
  url: string,
  options: { id: string; models: string; lockMs?: number; extra?: string[] },
): Promise<TestWorker> {
  const child = spawn(
    process.execPath,
    [
      cli,
      'worker',
      '--queue',
      url,
      '--id',
      options.id,
      '--models',
      options.models,
      '--threads',
      '1',
      '--heartbeat-ms',
      '300',
      '--lock-ms',
      String(options.lockMs ?? 4000),
      '--node-module',
      TEST_NODES,
      ...(options.extra ?? []),
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await waitForLine(child, 'stderr', /takes runs from/, `worker ${options.id}`);
  return {
    id: options.id,
    child,
    stderr: () => stderr,
    kill: () => stopChild(child, 'SIGKILL'),
    stop: () => stopChild(child),
  };
}

/** Polls until `check` returns a value (the scale-out state lives in other processes: no events to await). */
export async function until<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the server's health lists exactly these live workers. */
export async function workersSeen(test: TestServer, ids: string[]): Promise<void> {
  const want = [...ids].sort().join(',');
  await until(async () => {
    const health = (await test.api.get('/api/health').expect(200)).body as Health;
    return (health.workers ?? []).map((w) => w.id).join(',') === want;
  }, `the server to see workers ${want}`);
}

export async function getRun(test: TestServer, runId: string): Promise<RunDetail> {
  return (await test.api.get(`/api/runs/${runId}`).expect(200)).body as RunDetail;
}

/** Waits for the run to end and returns it. */
export function runFinished(test: TestServer, runId: string, ms?: number): Promise<RunDetail> {
  return until(
    async () => {
      const run = await getRun(test, runId);
      return ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : undefined;
    },
    `run ${runId} to end`,
    ms,
  );
}

/** A one-node workflow that waits for the file `flag` (TestFileGate): as slow as the test needs, on any worker. */
export function fileGateWorkflow(flag: string, nodeId = 'gate'): object {
  return {
    format: 'diffedit-studio.workflow',
    version: 1,
    name: `file gate ${nodeId}`,
    nodes: [{ id: nodeId, type: 'TestFileGate', params: { flag } }],
    edges: [],
  };
}

export async function openFileGate(flag: string): Promise<void> {
  await writeFile(flag, 'open');
}
