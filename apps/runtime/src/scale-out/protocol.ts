import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';

import { Redis } from 'ioredis';

import type { ModelListing, ProviderInfo } from '@diffedit/nodes';

import type { RunMessage } from '../server/run-executor.js';

/**
 * What the server and its queue workers share in Redis. BullMQ holds the jobs; next to it, under the same
 * prefix, are the workers' heartbeats, each run's message stream, cache-affinity hints and input files.
 */
export const PREFIX = 'diffedit';

export const keys = {
  /** A worker's heartbeat (JSON Heartbeat) with a TTL: present while the worker is alive. */
  worker: (id: string): string => `${PREFIX}:worker:${id}`,
  /** Ids of every worker that ever had a queue of its own (the server re-homes the jobs of dead ones). */
  workers: `${PREFIX}:workers`,
  /** Stream of a run's messages (Envelope, v8-serialised), written by workers, read by the server. */
  messages: (runId: string): string => `${PREFIX}:messages:${runId}`,
  /** Which BullMQ queue holds a run's job (so a restarted server re-attaches instead of adding it again). */
  jobQueue: (runId: string): string => `${PREFIX}:job-queue:${runId}`,
  /** Set when a run is cancelled (a worker that starts it later sees it). */
  cancelled: (runId: string): string => `${PREFIX}:cancelled:${runId}`,
  /** Workflow structure → the worker that last ran it (its cache holds the intermediates). */
  affinity: (workflowKey: string): string => `${PREFIX}:affinity:${workflowKey}`,
  /** An input file's bytes (uploads, earlier outputs) for workers on other machines; file ids are immutable. */
  file: (fileId: string): string => `${PREFIX}:file:${fileId}`,
  /** Where the workers answer a call (cache stats, model listing). */
  reply: (callId: string): string => `${PREFIX}:reply:${callId}`,
  /** Pub/sub channel: cancels and calls for the workers (JSON Control). */
  control: `${PREFIX}:control`,
  /** A stream the server writes to wake its own blocking read when it starts following a new run. */
  wake: (serverId: string): string => `${PREFIX}:wake:${serverId}`,
};

/** The shared queue of workers that hold exactly these models, and a worker's own queue (affinity). */
export const groupQueue = (models: readonly string[]): string =>
  `group-${createHash('sha256')
    .update([...models].sort().join('\n'))
    .digest('hex')
    .slice(0, 16)}`;
export const ownQueue = (workerId: string): string => `worker-${workerId}`;

export interface JobData {
  runId: string;
  workflow: unknown;
  targets?: string[];
  /** Structural key of the workflow (cache affinity). */
  workflowKey: string;
  /** The group queue it falls back to when its worker dies. */
  group: string;
  /** File ids the run reads; their bytes are in Redis (keys.file). */
  inputs: string[];
  /** Attempts used before this job was (re-)queued. */
  attemptsUsed: number;
  maxAttempts: number;
}

export interface Heartbeat {
  id: string;
  host: string;
  pid: number;
  group: string;
  models: string[];
  listing: ModelListing[];
  providers: Pick<ProviderInfo, 'configured' | 'sessions'>;
  running: string | null;
  at: number;
}

/** One entry of a run's message stream. `attempt` lets the server ignore a superseded attempt's leftovers. */
export type Envelope =
  | { kind: 'start'; attempt: number; worker: string }
  | { kind: 'message'; attempt: number; message: RunMessage }
  /** The queue gave up on the run (attempts exhausted); `code` and `message` become the run's error. */
  | { kind: 'lost'; attempt: number; code: string; message: string };

/** Messages carry artifacts' bytes: v8 serialisation keeps typed arrays (structured clone, like postMessage). */
export const encode = (envelope: Envelope): Buffer => serialize(envelope);
export const decode = (bytes: Buffer): Envelope => deserialize(bytes) as Envelope;

export type Control =
  | { op: 'cancel'; runId: string }
  | { op: 'call'; method: 'cacheStats' | 'clearCache' | 'listModels' | 'providerInfo'; replyTo: string };

/** How long a run's stream and job records are kept after the run is done (the server deletes them sooner). */
export const KEEP_S = 7 * 24 * 3600;

/** A Redis connection for BullMQ and our keys: it retries forever, so a lost connection comes back by itself. */
export function connect(url: string, name: string): Redis {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new Error(`--queue expects redis://HOST:PORT (or rediss://), got '${url}'`);
  return new Redis(url, {
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
}

/** Waits for Redis to answer (connections retry forever afterwards, but a wrong address must fail at start). */
export async function reachable(redis: Redis, url: string, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`cannot reach Redis at ${url} (no answer in ${timeoutMs / 1000} s)`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits for `work` (a shutdown step that talks to Redis), but gives up once Redis has been unreachable for
 * `graceMs`: a process asked to stop must stop even when Redis is gone.
 */
export async function whileReachable(redis: Redis, work: Promise<unknown>, graceMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<void>((resolve) => {
    let downSince: number | undefined;
    timer = setInterval(() => {
      if (redis.status === 'ready') downSince = undefined;
      else if ((downSince ??= Date.now()) + graceMs <= Date.now()) resolve();
    }, 200);
  });
  try {
    await Promise.race([work.catch(() => {}), gone]);
  } finally {
    clearInterval(timer);
  }
}

/** Waits for `work` at most `ms` (a shutdown step that might wait for a Redis that is gone). */
export async function bounded(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([work.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
