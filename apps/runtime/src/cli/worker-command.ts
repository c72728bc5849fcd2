import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Command } from 'commander';

import type { QueueWorker } from '../scale-out/queue-worker.js';
import { UsageError } from '../overrides.js';

interface WorkerFlags {
  queue: string;
  models: string;
  providers?: string;
  threads?: string;
  cacheMb?: string;
  cacheVariants?: string;
  data?: string;
  id?: string;
  lockMs?: string;
  heartbeatMs?: string;
  nodeModule: string[];
}

/** `diffedit worker`: executes the runs a `serve --queue` server puts in Redis (docs/scale-out.md). */
export function addWorkerCommand(
  program: Command,
  io: { signal?: AbortSignal; printErr(text: string): void; setExit(code: number): void },
): void {
  program
    .command('worker')
    .description("execute runs from a `serve --queue` server's Redis queue until Ctrl-C or SIGTERM")
    .requiredOption('--queue <url>', 'the Redis the server queues runs in: redis://[:PASSWORD@]HOST:PORT')
    .option('--models <dir>', 'models folder; the worker advertises the models it holds', 'models')
    .option(
      '--providers <list>',
      'onnxruntime execution providers to try in order (default: $DIFFEDIT_PROVIDERS or cuda,cpu)',
    )
    .option('--threads <n>', 'onnxruntime intra-op threads per model session (default: one per core)')
    .option('--cache-mb <n>', 'intermediate-result cache budget in MiB (default 1024)')
    .option(
      '--cache-variants <n>',
      'results kept per node: the last N variants (default 4; 0 = only the budget limits)',
    )
    .option('--data <dir>', 'where input files fetched from the queue are kept (default: a temporary folder)')
    .option('--id <name>', 'worker id in Redis (default: host name and a random suffix)')
    .option('--lock-ms <n>', 'a worker silent this long is presumed dead and its run retried (default 30000)')
    .option('--heartbeat-ms <n>', 'how often the worker advertises itself (default 1000)')
    .option(
      '--node-module <url>',
      'ES module whose `nodes` export adds node types (plug-ins); repeatable',
      collect,
      [],
    )
    .action(async (flags: WorkerFlags) => {
      const number = (value: string | undefined, flag: string, min: number): number | undefined => {
        if (value === undefined) return undefined;
        const n = Number(value);
        if (!Number.isInteger(n) || n < min)
          throw new UsageError(`${flag} expects a whole number ≥ ${min}, got '${value}'`);
        return n;
      };
      const threads = number(flags.threads, '--threads', 1);
      const cacheMb = number(flags.cacheMb, '--cache-mb', 0);
      const cacheVariants = number(flags.cacheVariants, '--cache-variants', 0);
      const lockMs = number(flags.lockMs, '--lock-ms', 1000);
      const heartbeatMs = number(flags.heartbeatMs, '--heartbeat-ms', 100);
      if (flags.id !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(flags.id))
        throw new UsageError(`--id expects letters, digits, '_' and '-', got '${flags.id}'`);
      const providers = (flags.providers ?? process.env.DIFFEDIT_PROVIDERS ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
      const temporary =
        flags.data === undefined ? await mkdtemp(join(tmpdir(), 'diffedit-worker-')) : undefined;
      let worker: QueueWorker;
      try {
        // loaded here, not with the CLI: bullmq and ioredis, which only this command uses
        const { startQueueWorker } = await import('../scale-out/queue-worker.js');
        worker = await startQueueWorker({
          url: flags.queue,
          ...(flags.id !== undefined ? { id: flags.id } : {}),
          ...(lockMs !== undefined ? { lockMs } : {}),
          ...(heartbeatMs !== undefined ? { heartbeatMs } : {}),
          run: {
            modelsDir: resolve(flags.models),
            ...(providers.length > 0 ? { providers } : {}),
            ...(threads !== undefined ? { threads } : {}),
            ...(cacheMb !== undefined ? { cacheBytes: cacheMb * 1024 * 1024 } : {}),
            ...(cacheVariants !== undefined ? { cacheVariants } : {}),
            filesDir: resolve(flags.data ?? temporary!, 'files'),
            assetsDir: fileURLToPath(new URL('../../../../workflows/assets', import.meta.url)),
            nodeModules: flags.nodeModule,
          },
          log: io.printErr,
        });
      } catch (error) {
        if (temporary) await rm(temporary, { recursive: true, force: true });
        io.printErr(`✗ cannot start the worker: ${(error as Error).message}`);
        return io.setExit(1);
      }
      const signal = io.signal ?? new AbortController().signal;
      await new Promise<void>((done) => {
        if (signal.aborted) return done();
        signal.addEventListener('abort', () => done(), { once: true });
      });
      io.printErr(`worker ${worker.id}: stopping (the running run finishes first)…`);
      await worker.close();
      if (temporary) await rm(temporary, { recursive: true, force: true });
      io.printErr('✓ stopped');
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
