import { PassThrough } from 'node:stream';

import { runCli } from '@diffedit/runtime';
import type { CliIo } from '@diffedit/runtime';

/** Runs the `diffedit` command line with stdout and stderr captured as text. */
export async function runCliCaptured(
  args: string[],
  io: Omit<CliIo, 'stdout' | 'stderr'> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await runCli(args, { stdout, stderr, ...io });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
