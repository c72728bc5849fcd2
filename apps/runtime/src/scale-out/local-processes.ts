import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Child processes on this machine for the scale-out bench and tests: a throwaway Redis, workers. */

/** The redis-server on PATH (Debian's package: .ci/run installs it), or undefined. */
export function redisServerPath(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  return found !== '' ? found : undefined;
}

/** A free TCP port on the loopback interface (free when asked; a race with other processes is unlikely). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when a line of the child's `stream` matches; rejects, with what it printed, if it exits first. */
export function waitForLine(
  child: ChildProcess,
  stream: 'stdout' | 'stderr',
  pattern: RegExp,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const lines = createInterface({ input: child[stream]! });
    lines.on('line', (line) => {
      seen += `${line}\n`;
      if (pattern.test(line)) resolve();
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`${what} exited with ${code ?? signal} before it was ready: ${seen}`)),
    );
  });
}

/** Sends `signal` and waits for the exit; SIGKILL after 20 s if the child ignores it. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

export interface LocalRedis {
  url: string;
  port: number;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/**
 * A redis-server on a free loopback port with a temporary folder and no persistence. If it does not become
 * ready, it is stopped and its folder removed before the error is thrown: nothing is left running.
 */
export async function startLocalRedis(path: string): Promise<LocalRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'diffedit-redis-'));
  const port = await freePort();
  const child = spawn(
    path,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stop = async (): Promise<void> => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForLine(child, 'stdout', /Ready to accept connections/, 'redis-server');
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, port, stop };
}
