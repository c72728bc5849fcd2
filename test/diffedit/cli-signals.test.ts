// The built CLI in a child process, stopped by signals while DDIMInvert is deep in its regularisation loops
// (num_reg_steps 100 × num_auto_corr_rolls 100: seconds of blocking maths per step before they were sliced).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeToyPack } from '@diffedit/toy-models';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(repo, 'apps/runtime/dist/cli.js');
let modelsDir: string;

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-signals-models-'));
  await writeToyPack(modelsDir);
});

interface Child {
  out: string;
  stderr: () => string;
  /** Resolves once stderr matches. */
  waitFor: (pattern: RegExp) => Promise<void>;
  /** The exit code, or the signal that ended the process (a crash on exit, say). */
  exit: Promise<number | NodeJS.Signals | null>;
  kill: (signal: NodeJS.Signals) => void;
}

function startHeavyRun(): Child {
  const out = mkdtempSync(join(tmpdir(), 'diffedit-signals-out-'));
  const sets = [
    'image.width=128',
    'image.height=128',
    'mask.num_inference_steps=4',
    'invert.num_reg_steps=100',
    'invert.num_auto_corr_rolls=100',
  ];
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      join(repo, 'workflows/diffedit-prompts.json'),
      '--models',
      modelsDir,
      '--providers',
      'cpu',
      '--out',
      out,
      ...sets.flatMap((s) => ['--set', s]),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const w of [...waiters]) {
      if (w.pattern.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const exit = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  return {
    out,
    stderr: () => stderr,
    waitFor: (pattern) =>
      pattern.test(stderr) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pattern, resolve })),
    exit,
    kill: (signal) => void child.kill(signal),
  };
}

describe('signals stop a run inside DDIMInvert’s regularisation', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s cancels the run: exit 130, report.json says cancelled at invert, no partial file',
    async (signal) => {
      const run = startHeavyRun();
      // the mask is done, so invert (next in order) is running its slow loops
      await run.waitFor(/✓ mask \(GenerateMask\)/);
      run.kill(signal);
      expect(await run.exit).toBe(130);
      expect(run.stderr()).toContain('✗ cancelled');
      const report = JSON.parse(await readFile(join(run.out, 'report.json'), 'utf8'));
      expect(report.status).toBe('cancelled');
      expect(report.nodes.invert.status).toBe('cancelled');
      expect(report.nodes.mask.status).toBe('ran');
      expect(await readdir(run.out)).toEqual(['report.json']);
    },
    120_000,
  );

  it('a second Ctrl-C exits at once', async () => {
    const run = startHeavyRun();
    await run.waitFor(/✓ mask \(GenerateMask\)/);
    run.kill('SIGINT');
    run.kill('SIGINT');
    // Once (1 in ~10 full suites under load) this exited by a signal instead: say which, with the CLI's last words.
    expect(await run.exit, run.stderr().slice(-800)).toBe(130);
  }, 120_000);
});
