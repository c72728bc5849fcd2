// The built `diffedit batch` in child processes: docs/batch.md's commands run as written (in a folder laid out
// like a fresh clone), and Ctrl-C stops a batch cleanly.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { writeToyPack } from '@diffedit/toy-models';
import type { BatchSummary } from '@diffedit/runtime';

import { runBash } from './bash-script.js';
import { startTestServer } from './server/harness.js';
import type { TestServer } from './server/harness.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(repo, 'apps/runtime/dist/cli.js');
const doc = await readFile(join(repo, 'docs/batch.md'), 'utf8');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffedit-batch-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function summaryOf(out: string): Promise<BatchSummary> {
  return JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as BatchSummary;
}

describe('docs/batch.md', () => {
  let test: TestServer;
  let clone: string;
  beforeAll(async () => {
    test = await startTestServer();
    // what the commands use from a fresh clone after `npm ci && npm run build`; ./models and out/ are theirs
    clone = join(dir, 'clone');
    await mkdir(join(clone, 'docs'), { recursive: true });
    for (const path of ['node_modules', 'workflows', 'docs/examples', 'package.json']) {
      await symlink(join(repo, path), join(clone, path));
    }
  });
  afterAll(async () => {
    await test?.close();
  });

  it('ships the example CSV the doc shows', async () => {
    const shown = /```csv\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(shown).toBe(await readFile(join(repo, 'docs/examples/batch-prompts.csv'), 'utf8'));
  });

  it('runs its commands as written: the CSV batch, the image folder, and through a server', async () => {
    const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toHaveLength(3);
    const result = await runBash(blocks.join('\n'), clone, { BASE: test.url });
    expect(result.stderr).not.toContain('✗');
    expect(result.status, result.stderr).toBe(0);

    const names = ['apple-to-pear', 'apple-to-banana', 'triangle-to-circle'];
    const local = await summaryOf(join(clone, 'out/batch'));
    expect(local.rows.map((r) => [r.name, r.status])).toEqual(names.map((n) => [n, 'succeeded']));
    // the documented figures: the second row reuses 5 nodes of the first
    expect(local.rows.map((r) => r.nodes)).toEqual([
      { ran: 11, cached: 0 },
      { ran: 6, cached: 5 },
      { ran: 10, cached: 1 },
    ]);
    for (const [i, row] of local.rows.entries()) {
      expect(result.stderr).toContain(
        `✓ [${i + 1}/3] ${row.name}: ${row.nodes.ran} ran, ${row.nodes.cached} cached,`,
      );
      expect(doc).toContain(`✓ [${i + 1}/3] ${row.name}: ${row.nodes.ran} ran, ${row.nodes.cached} cached,`);
    }
    const images = await summaryOf(join(clone, 'out/batch-images'));
    expect(images.rows.map((r) => r.name)).toEqual([
      'green-pear-on-black',
      'red-apple-on-blue',
      'white-triangle-on-red',
      'yellow-square-on-purple',
    ]);
    expect(images.counts.succeeded).toBe(4);
    const server = await summaryOf(join(clone, 'out/batch-server'));
    expect(server).toMatchObject({ server: test.url, status: 'succeeded' });
    expect(server.rows.map((r) => r.nodes)).toEqual(local.rows.map((r) => r.nodes));
    expect(await readdir(join(clone, 'out/batch-server/apple-to-pear'))).toEqual([
      'diffedit-prompts.png',
      'run.json',
    ]);
  });
});

describe('Ctrl-C', () => {
  it('cancels the running row, starts no more and writes the summary (exit 130)', async () => {
    const models = join(dir, 'models');
    await writeToyPack(models);
    const csv = join(dir, 'heavy.csv');
    // the first row regularises DDIMInvert's noise 100 × 100 times per step: seconds per step, on any machine
    await writeFile(csv, 'name,invert.num_reg_steps,invert.num_auto_corr_rolls\nheavy,100,100\nnever,,\n');
    const out = join(dir, 'out-ctrl-c');
    const child = spawn(
      process.execPath,
      [
        cli,
        'batch',
        join(repo, 'workflows/diffedit-prompts.json'),
        '--set-from',
        csv,
        '--out',
        out,
        '--models',
        models,
        '--providers',
        'cpu',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    // 'close', not 'exit': stderr is read to its end
    const exit = new Promise<number | null>((resolve) => child.once('close', resolve));
    // the first row starts as the batch announces its rows
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('▶ 2 rows')) resolve();
      });
      void exit.then(() => resolve());
    });
    child.kill('SIGINT');
    expect(await exit, stderr).toBe(130);
    expect(stderr).toContain('✗ cancelled: 0 succeeded, 0 failed, 1 cancelled, 1 not started');
    const summary = await summaryOf(out);
    expect(summary.status).toBe('cancelled');
    expect(summary.rows.map((r) => [r.name, r.status])).toEqual([
      ['heavy', 'cancelled'],
      ['never', 'skipped'],
    ]);
    // no folder for a row that did not finish
    expect((await readdir(out)).sort()).toEqual(['summary.csv', 'summary.json']);
  }, 120_000);
});
