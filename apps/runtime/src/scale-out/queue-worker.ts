import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';

import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';

import { confinedPath } from '../server/data-folder.js';
import type { RunMessage } from '../server/run-executor.js';
import { RunWorkerClient } from '../server/run-worker-client.js';
import type { RunWorkerData } from '../server/run-worker-protocol.js';
import {
  bounded,
  connect,
  encode,
  groupQueue,
  KEEP_S,
  keys,
  ownQueue,
  PREFIX,
  reachable,
  whileReachable,
} from './protocol.js';
import type { Control, Envelope, Heartbeat, JobData } from './protocol.js';

export interface QueueWorkerOptions {
  /** redis://HOST:PORT */
  url: string;
  /** Default: host name + random suffix. */
  id?: string;
  /** The run worker's settings (models folder, providers, threads, cache, files folder, plug-in nodes). */
  run: RunWorkerData;
  /** How often the heartbeat is written (default 1000 ms; it lives 3 beats). */
  heartbeatMs?: number;
  /** BullMQ lock of a running job: a worker silent this long is presumed dead (default 30000 ms). */
  lockMs?: number;
  log: (line: string) => void;
}

export interface QueueWorker {
  readonly id: string;
  readonly models: string[];
  /** Stops taking jobs, lets the running one finish, and disconnects. */
  close(): Promise<void>;
}

/**
 * `diffedit worker`: takes runs from BullMQ — its own queue (runs whose cached intermediates it holds) and the
 * shared queue of workers holding the same models — and executes them in the same run worker thread as the
 * local server (RunWorkerClient), forwarding every message of the run, unchanged, to the run's Redis stream.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const id = options.id ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${randomBytes(3).toString('hex')}`;
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const lockMs = options.lockMs ?? 30_000;
  const client = new RunWorkerClient(options.run, options.log);
  const listing = await client.call('listModels');
  const models = listing.filter((m) => m.loads).map((m) => m.name);
  const group = groupQueue(models);
  const redis = connect(options.url, `diffedit-worker-${id}`);
  const subscriber = connect(options.url, `diffedit-worker-${id}-control`);
  for (const connection of [redis, subscriber])
    connection.on('error', (error: Error) => options.log(`[worker ${id}] redis: ${error.message}`));
  try {
    await reachable(redis, options.url);
  } catch (error) {
    redis.disconnect();
    subscriber.disconnect();
    await client.close();
    throw error;
  }
  await mkdir(options.run.filesDir, { recursive: true });

  let running: { runId: string; controller: AbortController } | null = null;
  let providers = client.providerInfoNow();
  const beat = async (): Promise<void> => {
    providers = client.providerInfoNow();
    const heartbeat: Heartbeat = {
      id,
      host: hostname(),
      pid: process.pid,
      group,
      models,
      listing,
      providers,
      running: running?.runId ?? null,
      at: Date.now(),
    };
    await redis.set(keys.worker(id), JSON.stringify(heartbeat), 'PX', heartbeatMs * 3);
  };
  await redis.sadd(keys.workers, id);
  await beat();
  const beating = setInterval(() => void beat().catch(() => {}), heartbeatMs);

  await subscriber.subscribe(keys.control);
  subscriber.on('message', (_channel: string, text: string) => {
    const control = JSON.parse(text) as Control;
    if (control.op === 'cancel') {
      if (running?.runId === control.runId) running.controller.abort();
    } else if (control.op === 'call') {
      void client.call(control.method).then(
        (value) =>
          redis.rpush(control.replyTo, JSON.stringify(value)).then(() => redis.expire(control.replyTo, 60)),
        (error: Error) => options.log(`[worker ${id}] ${control.method}: ${error.message}`),
      );
    }
  });

  // One run at a time on this worker, whichever of its two queues it came from: while it runs, the other queue's
  // BullMQ worker is paused; a job that one fetched just before is handed straight back (moved to delayed,
  // which does not count as an attempt: attempts are counted by BullMQ's stalled counter).
  let busy = false;
  const bullWorkers: Worker<JobData>[] = [];
  const take = async (job: Job<JobData>, token?: string): Promise<void> => {
    if (busy) {
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    busy = true;
    const others = bullWorkers.filter((w) => w.name !== job.queueName);
    await Promise.all(others.map((w) => w.pause(true)));
    try {
      await execute(job);
    } finally {
      busy = false;
      for (const w of others) void w.resume().catch(() => {});
    }
  };

  const execute = async (job: Job<JobData>): Promise<void> => {
    const data = job.data;
    const attempt = data.attemptsUsed + job.stalledCounter + 1;
    const stream = keys.messages(data.runId);
    // Written in order on one connection; a lost connection queues them until it is back (ioredis).
    let sent: Promise<unknown> = Promise.resolve();
    const send = (envelope: Envelope): void => {
      const bytes = encode(envelope);
      sent = sent.then(() => redis.xadd(stream, '*', 'm', bytes)).then(() => redis.expire(stream, KEEP_S));
    };
    if (attempt > data.maxAttempts) {
      const message = `the run was started ${attempt - 1} times and each time its worker was lost (killed, or cut off from Redis); the limit is ${data.maxAttempts}`;
      send({ kind: 'lost', attempt, code: 'worker_lost', message });
      await sent;
      throw new UnrecoverableError(message);
    }
    const controller = new AbortController();
    let watch: NodeJS.Timeout | undefined;
    running = { runId: data.runId, controller };
    void beat().catch(() => {});
    try {
      send({ kind: 'start', attempt, worker: id });
      // The cancel message (pub/sub) may be missed (sent before this start, or while reconnecting): the key is
      // checked now and every second while the run goes on.
      const cancelled = async (): Promise<void> => {
        if ((await redis.exists(keys.cancelled(data.runId))) === 1) controller.abort();
      };
      await cancelled();
      watch = setInterval(() => void cancelled().catch(() => {}), 1000);
      await fetchInputs(redis, options.run.filesDir, data.inputs);
      await client.execute(
        data.workflow,
        { runId: data.runId, signal: controller.signal, ...(data.targets ? { targets: data.targets } : {}) },
        (message: RunMessage) => send({ kind: 'message', attempt, message }),
      );
    } catch (error) {
      // The run thread died: say so like the local server does (an internal error), and do not retry.
      send({
        kind: 'message',
        attempt,
        message: { type: 'crashed', runId: data.runId, message: (error as Error).message },
      });
    } finally {
      clearInterval(watch);
      running = null;
      void beat().catch(() => {});
    }
    await sent;
  };

  const workerOptions = {
    connection: redis,
    prefix: PREFIX,
    concurrency: 1,
    lockDuration: lockMs,
    stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
    // Retries of stalled jobs are bounded by the job's maxAttempts (checked above), not by BullMQ's count.
    maxStalledCount: 1000,
  };
  for (const name of [ownQueue(id), group]) {
    const worker = new Worker<JobData>(name, take, workerOptions);
    worker.on('error', (error: Error) => options.log(`[worker ${id}] ${name}: ${error.message}`));
    bullWorkers.push(worker);
  }
  await Promise.all(bullWorkers.map((w) => w.waitUntilReady()));
  options.log(`worker ${id} takes runs from ${options.url} (models: ${models.join(', ') || 'none'})`);

  return {
    id,
    models,
    close: async () => {
      clearInterval(beating);
      // The running run finishes first (its result must reach Redis), unless Redis is gone for good.
      await whileReachable(
        redis,
        (async () => {
          await Promise.all(bullWorkers.map((w) => w.close()));
          await redis.del(keys.worker(id));
        })(),
      );
      await bounded(Promise.all(bullWorkers.map((w) => w.close(true))), 1000);
      options.log(`[worker ${id}] closed the queues`);
      subscriber.disconnect();
      redis.disconnect();
      await client.close();
    },
  };
}

/** Copies the run's input files from Redis into this worker's files folder (once: file ids are immutable). */
async function fetchInputs(redis: Redis, filesDir: string, inputs: readonly string[]): Promise<void> {
  for (const fileId of inputs) {
    const path = confinedPath(filesDir, fileId, 'file id');
    if (existsSync(path)) continue;
    const bytes = await redis.getBuffer(keys.file(fileId));
    if (bytes) await writeFile(path, bytes);
  }
}
