import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { API_ROUTES } from '@diffedit/core';

import { runBash } from '../bash-script.js';
import { startTestServer } from './harness.js';
import type { TestServer } from './harness.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = join(root, 'apps/runtime/dist/cli.js');
const apiDoc = await readFile(join(root, 'docs/api.md'), 'utf8');

/** The ```sh blocks of docs/api.md's "Routes" section, in order: one script. */
function routeExamples(): string {
  const section = apiDoc.slice(apiDoc.indexOf('## Routes'), apiDoc.indexOf('## Events'));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

describe('docs/api.md', () => {
  let test: TestServer;
  beforeAll(async () => {
    test = await startTestServer();
  });
  afterAll(async () => {
    await test?.close();
  });

  it('has an example for every route', () => {
    const script = routeExamples();
    for (const route of Object.values(API_ROUTES)) {
      const path = route.path.replace(/\/:\w+$/, '/').replace(/\/api/, '$BASE/api');
      expect(script, `${route.method} ${route.path}`).toContain(path);
      if (route.method !== 'get') {
        const flag = route.method === 'post' ? /-d |-F / : new RegExp(`-X ${route.method.toUpperCase()}`);
        expect(script, `${route.method} ${route.path}`).toMatch(flag);
      }
    }
  });

  it('runs the route examples as written against a live server', async () => {
    // Not spawnSync: the server runs in this process and must keep answering while the script runs.
    const result = await runBash(routeExamples(), root, { BASE: test.url });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const out = result.stdout;
    expect(out).toContain('"ok":true'); // health
    expect(out).toMatch(/LoadImage .*DDIMInvert/); // nodes
    expect(out).toContain('toy-sd:diffusion'); // models
    expect(out).toContain('image/png'); // the upload served back
    expect(out).toContain('invalid_document'); // the refused workflow
    expect(out).toMatch(/succeeded \/api\/files\/out_[0-9a-f]{32}\.png$/m); // the run and its file
    expect(out).toMatch(/^409$/m); // cancelling a finished run
    expect(out).toContain('diffedit-prompts (template)');
    expect(out).toContain('3.1.0');
  });
});

describe('diffedit serve', () => {
  it('prints its URL, serves, and exits 0 on SIGTERM', async () => {
    const data = await mkdtemp(join(tmpdir(), 'diffedit-serve-'));
    const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--data', data], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
      });
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(line)?.[0];
      expect(url, line).toBeDefined();
      const health = await request(url!).get('/api/health').expect(200);
      expect(health.body).toMatchObject({ ok: true, auth: false });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain('stopped');
    } finally {
      child.kill('SIGKILL');
      await rm(data, { recursive: true, force: true });
    }
  });

  it('with --token prints the editor link carrying it, and the API wants it', async () => {
    const data = await mkdtemp(join(tmpdir(), 'diffedit-serve-'));
    const child = spawn(
      process.execPath,
      [cli, 'serve', '--port', '0', '--data', data, '--token', 'tok/en+1'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const lines: string[] = [];
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          lines.push(line);
          if (lines.length === 2) resolve();
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
      });
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(lines[0])?.[0];
      expect(url, lines[0]).toBeDefined();
      expect(lines[1]).toContain(`${url}/?token=tok%2Fen%2B1`);
      const link = new URL(/http:\S+/.exec(lines[1])![0]);
      expect(link.searchParams.get('token')).toBe('tok/en+1');
      await request(url!).get('/api/health').expect(401);
      const health = await request(url!)
        .get('/api/health')
        .set('authorization', 'Bearer tok/en+1')
        .expect(200);
      expect(health.body.auth).toBe(true);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await rm(data, { recursive: true, force: true });
    }
  });

  it('refuses a public address without a token (exit 2, saying why)', async () => {
    const data = await mkdtemp(join(tmpdir(), 'diffedit-serve-'));
    try {
      const result = spawnSync(
        process.execPath,
        [cli, 'serve', '--host', '0.0.0.0', '--port', '0', '--data', data],
        {
          cwd: root,
          encoding: 'utf8',
          env: { ...process.env, DIFFEDIT_TOKEN: '' },
        },
      );
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/needs a token/);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});
