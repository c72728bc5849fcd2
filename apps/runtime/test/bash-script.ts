import { spawn } from 'node:child_process';

export interface ScriptResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a documented shell block as written (`bash -euo pipefail -c`) without blocking this process (a server
 * the script talks to may run in it); resolves once the script has exited and its output is read.
 */
export function runBash(
  script: string,
  cwd: string,
  env: Record<string, string> = {},
): Promise<ScriptResult> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}
