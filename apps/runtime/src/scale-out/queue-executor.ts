import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import { DEFAULT_VARIANTS_PER_NODE } from '@diffedit/core';
import type { ApiIssue, CacheStats, ValidWorkflow } from '@diffedit/core';
import type { ModelListing, ProviderInfo } from '@diffedit/nodes';

import type { Runtime } from '../runtime.js';
import { deliverRunMessage, RunLostError } from '../server/run-executor.js';
import type { ExecuteOptions, RunExecutor, WorkerInfo } from '../server/run-executor.js';
import type { WorkerCall, WorkerCalls, WorkerRunResult } from '../server/run-worker-protocol.js';
import {
  bounded,
  connect,
  decode,
  groupQueue,
  KEEP_S,
  keys,
  ownQueue,
  PREFIX,
  reachable,
  whileReachable,
} from './protocol.js';
import type { Control, Heartbeat, JobData } from './protocol.js';
import { inputFiles, modelNeeds, unservable, workflowKey } from './routing.js';

export interface QueueExecutorOptions {
  /** redis://HOST:PORT */
  url: string;
  /** The server's runtime: validation and the catalog (which params name models and files). */
  runtime: Runtime;
  /** The server's files folder (uploads and outputs a run may read). */
  filesDir: string;
  /** Times a run is started before it fails when its workers keep dying (default 3). */
  maxAttempts?: number;
  /** How often the worker list and the jobs' states are refreshed (default 1000 ms). */
  pollMs?: number;
  log: (line: string) => void;
}

interface Following {
  options: ExecuteOptions;
  queue: string;
  workflowKey: string;
  /** Last stream entry read. */
  lastId: string;
  /** The attempt whose messages count (a newer start supersedes an older one). */
  attempt: number;
  worker?: string;
  /** Polls that found the job failed or gone with no end in the stream yet. */
  strikes: number;
  resolve(result: WorkerRunResult): void;
  reject(error: Error): void;
}

const NO_PROVIDERS = { configured: [], sessions: [] };

/**
 * `serve --queue`: runs go into BullMQ queues in Redis, worker processes (`diffedit worker`) execute them and
 * write every message of the run worker protocol into a Redis stream per run, which this reads back and hands
 * to RunQueue exactly as the local run worker's messages (deliverRunMessage).
 */
export class QueueExecutor implements RunExecutor {
  readonly capacity = Number.POSITIVE_INFINITY;
  readonly durable = true;
  private readonly redis: Redis;
  private readonly reader: Redis;
  private readonly queues = new Map<string, Queue<JobData>>();
  private readonly following = new Map<string, Following>();
  /** Workers a run was just routed to through their own queue (until it starts): not idle any more. */
  private readonly claimed = new Set<string>();
  private live: Heartbeat[] = [];
  private readonly serverId = randomUUID();
  private readonly maxAttempts: number;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private polling: Promise<void> = Promise.resolve();
  /** Jobs being added: a stopping server lets them land, so that no run is left recorded but never queued. */
  private readonly enqueuing = new Set<Promise<string>>();

  constructor(private readonly options: QueueExecutorOptions) {
    this.redis = connect(options.url, 'diffedit-server');
    this.reader = connect(options.url, 'diffedit-server-reader');
    this.maxAttempts = options.maxAttempts ?? 3;
    for (const connection of [this.redis, this.reader])
      connection.on('error', (error: Error) => options.log(`[queue] redis: ${error.message}`));
  }

  /** Connects, reads the live workers once, and starts following runs. */
  async start(): Promise<void> {
    await reachable(this.redis, this.options.url);
    await this.refreshWorkers();
    this.reading = this.readLoop();
    this.timer = setInterval(() => {
      this.polling = this.polling
        .then(() => this.poll())
        .catch((e: Error) => this.options.log(`[queue] ${e.message}`));
    }, this.options.pollMs ?? 1000);
  }

  admit(workflow: ValidWorkflow): ApiIssue[] {
    return unservable(modelNeeds(workflow, this.options.runtime.catalog), this.live);
  }

  workersNow(): WorkerInfo[] {
    return this.live.map((w) => ({ id: w.id, models: [...w.models], running: w.running }));
  }

  providerInfoNow(): Pick<ProviderInfo, 'configured' | 'sessions'> {
    if (this.live.length === 0) return NO_PROVIDERS;
    return {
      configured: [...new Set(this.live.flatMap((w) => w.providers.configured))],
      sessions: this.live.flatMap((w) => w.providers.sessions),
    };
  }

  async run(workflow: unknown, options: ExecuteOptions): Promise<WorkerRunResult> {
    const { runId } = options;
    const validation = this.options.runtime.validate(workflow, options.targets);
    if (!validation.ok) throw new Error('the workflow no longer validates');
    const valid = validation.workflow;
    const key = workflowKey(valid);
    const enqueuing = this.enqueue(runId, workflow, valid, key, options);
    this.enqueuing.add(enqueuing);
    let queue: string;
    try {
      queue = await enqueuing;
    } finally {
      this.enqueuing.delete(enqueuing);
    }
    if (this.closed) throw new Error('the server is stopping; the run goes on in the queue');
    return new Promise<WorkerRunResult>((resolve, reject) => {
      const following: Following = {
        options,
        queue: queue,
        workflowKey: key,
        lastId: '0',
        attempt: 0,
        strikes: 0,
        resolve,
        reject,
      };
      this.following.set(runId, following);
      const cancel = (): void =>
        void this.cancel(following).catch((e: Error) => this.options.log(`[queue] cancel: ${e.message}`));
      // Cancelled while the job was being queued (the signal fired before this listener existed): cancel now.
      if (options.signal.aborted) cancel();
      else options.signal.addEventListener('abort', cancel, { once: true });
      this.wake();
    });
  }

  /**
   * The queue that holds the run's job, adding the job first when it is in none. A restarted server finds the
   * job it queued before (and the stream of what happened since). A server stopped or killed between recording
   * the queue and adding the job left a record without a job: the job is added afresh.
   */
  private async enqueue(
    runId: string,
    workflow: unknown,
    valid: ValidWorkflow,
    key: string,
    options: ExecuteOptions,
  ): Promise<string> {
    const recorded = await this.redis.get(keys.jobQueue(runId));
    if (recorded !== null && (await this.holds(recorded, runId))) return recorded;
    const needs = modelNeeds(valid, this.options.runtime.catalog);
    const refused = unservable(needs, this.live);
    if (refused.length > 0) throw new RunLostError(refused[0].code, refused[0].message);
    const inputs = inputFiles(valid, this.options.runtime.catalog);
    await this.shareInputs(inputs);
    const { name, group } = await this.route(key, [...new Set(needs.map((n) => n.model))]);
    const data: JobData = {
      runId,
      workflow,
      ...(options.targets ? { targets: options.targets } : {}),
      workflowKey: key,
      group,
      inputs,
      attemptsUsed: 0,
      maxAttempts: this.maxAttempts,
    };
    await this.redis.set(keys.jobQueue(runId), name, 'EX', KEEP_S);
    await this.add(name, data);
    return name;
  }

  /** Whether the queue holds the run's job, or a worker has already written to the run's stream. */
  private async holds(queue: string, runId: string): Promise<boolean> {
    if (await this.queueNamed(queue).getJob(runId)) return true;
    return (await this.redis.xlen(keys.messages(runId))) > 0;
  }

  /** Interrupts the blocking read, so that it starts reading a newly followed run's stream at once. */
  private wake(): void {
    void this.redis.xadd(keys.wake(this.serverId), 'MAXLEN', '~', '100', '*', 'run', '1').catch(() => {});
  }

  async call<M extends WorkerCall>(method: M): Promise<Awaited<ReturnType<WorkerCalls[M]>>> {
    type Answer = Awaited<ReturnType<WorkerCalls[M]>>;
    if (method === 'close') return undefined as Answer;
    const replyTo = keys.reply(randomUUID());
    const expected = this.live.length;
    const control: Control = { op: 'call', method: method as Exclude<WorkerCall, 'close'>, replyTo };
    await this.redis.publish(keys.control, JSON.stringify(control));
    const replies: unknown[] = [];
    const waiter = this.redis.duplicate();
    try {
      // Workers answer between two steps of their running node: wait a little for each.
      const until = Date.now() + 5000;
      while (replies.length < expected && Date.now() < until) {
        const popped = await waiter.blpop(replyTo, Math.max(0.1, (until - Date.now()) / 1000));
        if (popped) replies.push(JSON.parse(popped[1]));
      }
    } finally {
      waiter.disconnect();
      void this.redis.del(replyTo).catch(() => {});
    }
    return combine(method, replies) as Answer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    // The runs go on on the workers; the next server start re-attaches them.
    for (const following of this.following.values())
      following.reject(new Error('the server is stopping; the run goes on in the queue'));
    this.following.clear();
    // Disconnecting the reader ends its blocking read; nothing below may wait for a Redis that is gone.
    this.reader.disconnect();
    if (this.reading) await bounded(this.reading, 1000);
    await whileReachable(
      this.redis,
      (async () => {
        await this.polling.catch(() => {});
        await Promise.allSettled(this.enqueuing);
        await Promise.all([...this.queues.values()].map((q) => q.close()));
        await this.redis.del(keys.wake(this.serverId)).catch(() => {});
      })(),
    );
    this.redis.disconnect();
  }

  private queueNamed(name: string): Queue<JobData> {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue<JobData>(name, { connection: this.redis, prefix: PREFIX });
      queue.on('error', (error: Error) => this.options.log(`[queue] ${name}: ${error.message}`));
      this.queues.set(name, queue);
    }
    return queue;
  }

  private async add(name: string, data: JobData): Promise<void> {
    await this.queueNamed(name).add('run', data, {
      jobId: data.runId,
      // Kept a day: a restarted server's re-add of the same id is then a no-op instead of a second run.
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: KEEP_S },
    });
  }

  /**
   * The worker whose cache holds this workflow's intermediates when it is alive, idle and holds the models
   * (its own queue); otherwise the shared queue of a group of workers that hold them, one with an idle worker
   * first.
   */
  private async route(key: string, models: string[]): Promise<{ name: string; group: string }> {
    const able = this.live.filter((w) => models.every((m) => w.models.includes(m)));
    const preferred = await this.redis.get(keys.affinity(key));
    const owner = able.find((w) => w.id === preferred);
    // Busy: running one of this server's runs, as their streams say (fresher than the heartbeats).
    const busy = new Set(
      [...this.following.values()].filter((f) => f.worker !== undefined).map((f) => f.worker!),
    );
    const idle = (w: Heartbeat): boolean => !this.claimed.has(w.id) && !busy.has(w.id);
    if (owner && idle(owner)) {
      this.claimed.add(owner.id);
      await this.redis.sadd(keys.workers, owner.id);
      return { name: ownQueue(owner.id), group: owner.group };
    }
    const groups = new Map<string, { size: number; idle: number }>();
    for (const w of able) {
      const g = groups.get(w.group) ?? { size: 0, idle: 0 };
      g.size++;
      if (idle(w)) g.idle++;
      groups.set(w.group, g);
    }
    const [group] = [...groups].sort((a, b) => b[1].idle - a[1].idle || b[1].size - a[1].size)[0] ?? [
      groupQueue(models),
    ];
    return { name: group, group };
  }

  /** Puts the bytes of the run's input files in Redis, once per file id (ids are content-stable). */
  private async shareInputs(inputs: string[]): Promise<void> {
    for (const id of inputs) {
      if ((await this.redis.exists(keys.file(id))) === 1) {
        await this.redis.expire(keys.file(id), KEEP_S);
        continue;
      }
      const bytes = await readFile(join(this.options.filesDir, id));
      await this.redis.set(keys.file(id), bytes, 'EX', KEEP_S);
    }
  }

  private async cancel(following: Following): Promise<void> {
    const { runId } = following.options;
    await this.redis.set(keys.cancelled(runId), '1', 'EX', KEEP_S);
    const job = await this.queueNamed(following.queue).getJob(runId);
    const state = job ? await job.getState() : 'unknown';
    if (job && state !== 'active' && state !== 'completed' && state !== 'failed') {
      try {
        await job.remove();
        // Never started: it ends here, as a queued run cancelled in local mode does.
        following.options.onEvent({ type: 'run:cancelled', runId, time: Date.now(), ms: 0, nodeId: null });
        this.end(following, {
          runId,
          status: 'cancelled',
          ms: 0,
          nodes: [],
          fingerprints: {},
          warnings: [],
        });
        return;
      } catch {
        // It has just become active: the worker cancels it.
      }
    }
    const control: Control = { op: 'cancel', runId };
    await this.redis.publish(keys.control, JSON.stringify(control));
  }

  private end(following: Following, result: WorkerRunResult | Error): void {
    const { runId } = following.options;
    if (this.following.get(runId) !== following) return;
    this.following.delete(runId);
    if (following.worker) this.claimed.delete(following.worker);
    if (result instanceof Error) following.reject(result);
    else {
      following.resolve(result);
      if (following.worker && result.status === 'done')
        void this.redis
          .set(keys.affinity(following.workflowKey), following.worker, 'EX', KEEP_S)
          .catch(() => {});
    }
    void this.redis.del(keys.messages(runId), keys.jobQueue(runId), keys.cancelled(runId)).catch(() => {});
  }

  /** Reads the streams of every followed run (and the wake stream) with one blocking XREAD. */
  private async readLoop(): Promise<void> {
    const wake = keys.wake(this.serverId);
    let wakeId = '$';
    while (!this.closed) {
      const runs = [...this.following.values()];
      let answer: [Buffer, [Buffer, Buffer[]][]][] | null;
      try {
        answer = (await this.reader.xreadBuffer(
          'COUNT',
          200,
          'BLOCK',
          5000,
          'STREAMS',
          wake,
          ...runs.map((f) => keys.messages(f.options.runId)),
          wakeId,
          ...runs.map((f) => f.lastId),
        )) as [Buffer, [Buffer, Buffer[]][]][] | null;
      } catch (error) {
        if (this.closed) return;
        this.options.log(`[queue] reading run messages: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const [stream, entries] of answer ?? []) {
        const name = stream.toString();
        if (name === wake) {
          wakeId = entries.at(-1)![0].toString();
          continue;
        }
        const runId = name.slice(keys.messages('').length);
        for (const [id, fields] of entries) {
          const following = this.following.get(runId);
          if (!following) break;
          following.lastId = id.toString();
          this.receive(following, fields[1]);
        }
      }
    }
  }

  private receive(following: Following, bytes: Buffer): void {
    const envelope = decode(bytes);
    if (envelope.kind === 'start') {
      if (envelope.attempt < following.attempt) return;
      following.attempt = envelope.attempt;
      if (following.worker && following.worker !== envelope.worker) this.claimed.delete(following.worker);
      following.worker = envelope.worker;
      following.strikes = 0;
      following.options.onStart({ worker: envelope.worker, attempt: envelope.attempt });
      return;
    }
    if (envelope.kind === 'lost') {
      this.end(following, new RunLostError(envelope.code, envelope.message));
      return;
    }
    // Leftovers of an attempt that was given up (its worker lost Redis and another took over) are dropped.
    if (envelope.attempt !== following.attempt) return;
    const end = deliverRunMessage(envelope.message, following.options);
    if (!end) return;
    if ('result' in end) this.end(following, end.result);
    else this.end(following, new Error(end.crashed));
  }

  private async refreshWorkers(): Promise<void> {
    const ids: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', keys.worker('*'), 'COUNT', 200);
      cursor = next;
      ids.push(...found);
    } while (cursor !== '0');
    const beats = ids.length > 0 ? await this.redis.mget(...ids) : [];
    this.live = beats.flatMap((text) => (text ? [JSON.parse(text) as Heartbeat] : []));
    this.live.sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * Each second: the live workers; the jobs of the followed runs (BullMQ fails a job when its attempts are
   * used up — that ends the run with the reason); and the own queues of dead workers, whose jobs go to their
   * group's shared queue.
   */
  private async poll(): Promise<void> {
    if (this.closed) return;
    await this.refreshWorkers();
    for (const following of [...this.following.values()]) {
      const job = await this.queueNamed(following.queue).getJob(following.options.runId);
      const state = job ? await job.getState() : 'unknown';
      if (state !== 'failed' && state !== 'unknown') {
        following.strikes = 0;
        continue;
      }
      // The stream may still hold the end: give the reader two polls to get to it.
      if (++following.strikes < 3) continue;
      const reason = job?.failedReason ?? 'the job is no longer in the queue';
      this.end(following, new RunLostError('worker_lost', `the queue gave up on this run: ${reason}`));
    }
    await this.rehomeDeadWorkersJobs();
  }

  private async rehomeDeadWorkersJobs(): Promise<void> {
    const alive = new Set(this.live.map((w) => w.id));
    for (const id of await this.redis.smembers(keys.workers)) {
      if (alive.has(id)) continue;
      const queue = this.queueNamed(ownQueue(id));
      const jobs = await queue.getJobs(['wait', 'active', 'delayed', 'prioritized']);
      let left = 0;
      for (const job of jobs) {
        const state = await job.getState();
        try {
          // Refused while a live worker still holds its lock (it only missed heartbeats).
          await job.remove();
        } catch {
          left++;
          continue;
        }
        const data: JobData = {
          ...job.data,
          attemptsUsed: job.data.attemptsUsed + (state === 'active' ? 1 : 0),
        };
        const following = this.following.get(data.runId);
        if (data.attemptsUsed >= data.maxAttempts) {
          if (following)
            this.end(
              following,
              new RunLostError(
                'worker_lost',
                `the run was started ${data.attemptsUsed} times and each time its worker was lost (killed, or cut off from Redis); the limit is ${data.maxAttempts}`,
              ),
            );
          continue;
        }
        await this.redis.set(keys.jobQueue(data.runId), data.group, 'EX', KEEP_S);
        await this.add(data.group, data);
        if (following) following.queue = data.group;
        this.claimed.delete(id);
      }
      if (left === 0) {
        await this.redis.srem(keys.workers, id);
        await queue.obliterate({ force: true }).catch(() => {});
        await queue.close();
        this.queues.delete(queue.name);
      }
    }
  }
}

/** One answer from the answers of every worker. */
function combine(method: Exclude<WorkerCall, 'close'>, replies: unknown[]): unknown {
  switch (method) {
    case 'cacheStats':
    case 'clearCache': {
      const all = replies as CacheStats[];
      const sum = (field: keyof CacheStats): number =>
        all.reduce((total, s) => total + (typeof s[field] === 'number' ? (s[field] as number) : 0), 0);
      return {
        entries: sum('entries'),
        bytes: sum('bytes'),
        budgetBytes: sum('budgetBytes'),
        hits: sum('hits'),
        misses: sum('misses'),
        evictions: sum('evictions'),
        // the loosest worker's limit (0: one keeps every variant)
        variantsPerNode:
          all.length === 0
            ? DEFAULT_VARIANTS_PER_NODE
            : all.some((s) => s.variantsPerNode === 0)
              ? 0
              : Math.max(...all.map((s) => s.variantsPerNode)),
      };
    }
    case 'listModels': {
      const byName = new Map<string, ModelListing>();
      for (const listing of replies as ModelListing[][]) for (const m of listing) byName.set(m.name, m);
      return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
    }
    case 'providerInfo': {
      const all = replies as ProviderInfo[];
      return {
        configured: [...new Set(all.flatMap((p) => p.configured))],
        sessions: all.flatMap((p) => p.sessions),
      };
    }
  }
}
