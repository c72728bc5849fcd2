// `diffedit batch --server`: through the public HTTP API only (uploads, runs, files), the same pixels as a batch
// in this process; a token; a failing row; cancel across the API.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FILE_ID_PATTERN, InputsFolderKey, ServiceRegistry } from '@diffedit/core';
import type { RunDetail } from '@diffedit/core';
import { ModelManager, ModelManagerKey } from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';
import { EXIT, runCli } from '@diffedit/runtime';
import type { BatchSummary } from '@diffedit/runtime';

import { runCliCaptured } from '../capture-cli.js';
import { openGate, startTestServer } from './harness.js';
import type { TestServer } from './harness.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const workflows = join(repo, 'workflows');
const WORKFLOW = join(workflows, 'diffedit-prompts.json');
const CHEAP = ['mask.num_inference_steps=10', 'invert.num_inference_steps=10'].flatMap((s) => ['--set', s]);
const TOKEN = 'batch-test-token';
const ROWS =
  'name,image.image,target.text\n' +
  'pear,assets/red-apple-on-blue.png,a green pear\n' +
  'banana,assets/red-apple-on-blue.png,"a ripe banana, yellow"\n' +
  'triangle,assets/white-triangle-on-red.png,a blue triangle\n';

let dir: string;
let test: TestServer;
let csv: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffedit-batch-server-'));
  csv = join(dir, 'rows.csv');
  await writeFile(csv, ROWS);
  test = await startTestServer({ token: TOKEN });
});
afterAll(async () => {
  await test?.close();
  await rm(dir, { recursive: true, force: true });
});

async function summaryOf(out: string): Promise<BatchSummary> {
  return JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as BatchSummary;
}

async function pixels(path: string): Promise<Buffer> {
  return sharp(path).ensureAlpha().raw().toBuffer();
}

describe('diffedit batch --server', () => {
  it('uploads, runs and downloads through the API: the same pixels and cache reuse as in this process', async () => {
    const remoteOut = join(dir, 'out-server');
    const remote = await runCliCaptured([
      'batch',
      WORKFLOW,
      '--set-from',
      csv,
      '--out',
      remoteOut,
      '--server',
      test.url,
      '--token',
      TOKEN,
      ...CHEAP,
    ]);
    expect(remote.stderr).not.toContain('✗');
    expect(remote.code).toBe(EXIT.ok);

    // the same batch in this process, on its own toy pack
    const modelsDir = join(dir, 'models');
    await writeToyPack(modelsDir);
    const manager = new ModelManager({ modelsDir, mode: 'in-process', providers: ['cpu'], logger: () => {} });
    const services = new ServiceRegistry()
      .set(InputsFolderKey, { root: workflows, resolve: (p: string) => resolve(workflows, p) })
      .set(ModelManagerKey, manager);
    const localOut = join(dir, 'out-local');
    const local = await runCliCaptured(['batch', WORKFLOW, '--set-from', csv, '--out', localOut, ...CHEAP], {
      runtimeOptions: { services, modelsDir },
    });
    expect(local.code, local.stderr).toBe(EXIT.ok);

    const [remoteSummary, localSummary] = [await summaryOf(remoteOut), await summaryOf(localOut)];
    expect(remoteSummary).toMatchObject({ status: 'succeeded', server: test.url, counts: { succeeded: 3 } });
    for (const [i, name] of ['pear', 'banana', 'triangle'].entries()) {
      expect((await readdir(join(remoteOut, name))).sort()).toEqual(['diffedit-prompts.png', 'run.json']);
      const same = (await pixels(join(remoteOut, name, 'diffedit-prompts.png'))).equals(
        await pixels(join(localOut, name, 'diffedit-prompts.png')),
      );
      expect(same, `${name}: the server's pixels differ from the local batch's`).toBe(true);
      // the server's cache is reused across rows exactly as the local runtime's
      expect(remoteSummary.rows[i].nodes).toEqual(localSummary.rows[i].nodes);
      expect([...remoteSummary.rows[i].cached].sort()).toEqual([...localSummary.rows[i].cached].sort());
    }
    expect(remoteSummary.rows.map((r) => r.nodes)).toEqual([
      { ran: 11, cached: 0 },
      { ran: 6, cached: 5 },
      { ran: 9, cached: 2 },
    ]);

    // the server ran exactly these runs, on uploaded files (one upload per distinct image)
    const images: string[] = [];
    for (const row of remoteSummary.rows) {
      const run = (
        await test.api.get(`/api/runs/${row.runId}`).set('authorization', `Bearer ${TOKEN}`).expect(200)
      ).body as RunDetail;
      expect(run.status).toBe('succeeded');
      const image = (run.workflow as { nodes: { id: string; params: { image?: string } }[] }).nodes.find(
        (n) => n.id === 'image',
      )!.params.image!;
      expect(image).toMatch(FILE_ID_PATTERN);
      images.push(image);
      const saved = JSON.parse(await readFile(join(remoteOut, row.name, 'run.json'), 'utf8')) as RunDetail;
      expect(saved.runId).toBe(row.runId);
    }
    expect(images[0]).toBe(images[1]);
    expect(images[2]).not.toBe(images[0]);
  });

  it('needs the token the server asks for: exit 2, nothing written', async () => {
    const out = join(dir, 'out-no-token');
    const { code, stderr } = await runCliCaptured([
      'batch',
      WORKFLOW,
      '--set-from',
      csv,
      '--out',
      out,
      '--server',
      test.url,
    ]);
    expect(code).toBe(EXIT.invalid);
    expect(stderr).toContain(`${test.url} needs a token: pass --token T`);
    expect(existsSync(out)).toBe(false);
  });

  it('validates the rows against the server’s catalog before submitting any', async () => {
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'target.text,mask.mask_thresholding_ratio\na,3\nb,0\n');
    const out = join(dir, 'out-bad');
    const before = (await test.api.get('/api/runs').set('authorization', `Bearer ${TOKEN}`)).body as {
      total: number;
    };
    const { code, stderr } = await runCliCaptured([
      'batch',
      WORKFLOW,
      '--set-from',
      bad,
      '--out',
      out,
      '--server',
      test.url,
      '--token',
      TOKEN,
    ]);
    expect(code).toBe(EXIT.invalid);
    expect(stderr).toMatch(
      /row 2 \(line 3\) › column mask\.mask_thresholding_ratio: node mask \(GenerateMask\) › mask_thresholding_ratio: .*\[invalid_param\]/,
    );
    const after = (await test.api.get('/api/runs').set('authorization', `Bearer ${TOKEN}`)).body as {
      total: number;
    };
    expect(after.total).toBe(before.total);
    expect(existsSync(out)).toBe(false);
  });

  it('--images: an image the server refuses fails its row (node, field, code); the others finish; exit 1', async () => {
    const images = join(dir, 'images');
    await mkdir(images);
    await copyFile(join(workflows, 'assets', 'yellow-square-on-purple.png'), join(images, 'a.png'));
    await writeFile(join(images, 'b.png'), 'not an image');
    const out = join(dir, 'out-images');
    const { code, stderr } = await runCliCaptured([
      'batch',
      WORKFLOW,
      '--images',
      images,
      '--out',
      out,
      '--server',
      test.url,
      '--token',
      TOKEN,
      ...CHEAP,
    ]);
    expect(code).toBe(EXIT.failed);
    expect(stderr).toMatch(/✗ \[\d\/2\] b: node image \(LoadImage\) › image failed: .*POST \/api\/uploads/);
    const summary = await summaryOf(out);
    expect(summary.rows.map((r) => r.status)).toEqual(['succeeded', 'failed']);
    expect(summary.rows[1].error).toMatchObject({ nodeId: 'image', nodeType: 'LoadImage', field: 'image' });
    expect(summary.rows[1].error?.code).toMatch(/^(invalid_image|unsupported_media_type)$/);
    expect(await readdir(join(out, 'a'))).toContain('diffedit-prompts.png');
    expect(existsSync(join(out, 'b'))).toBe(false);
  });

  it('cancels the submitted runs on the server when the batch is cancelled (exit 130)', async () => {
    const gates = join(dir, 'gates.csv');
    const tag = Math.random().toString(36).slice(2, 8);
    await writeFile(gates, `gate.name\n${tag}-1\n${tag}-2\n${tag}-3\n`);
    const workflow = join(dir, 'gate.json');
    await writeFile(
      workflow,
      JSON.stringify({
        format: 'diffedit-studio.workflow',
        version: 1,
        name: 'gate',
        nodes: [{ id: 'gate', type: 'TestGate', params: { name: 'gate' } }],
        edges: [],
      }),
    );
    openGate(`${tag}-1`); // the first row passes its gate; the others wait at theirs until cancelled
    const out = join(dir, 'out-cancel');
    const controller = new AbortController();
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('[1/3]')) controller.abort();
    });
    const code = await runCli(
      ['batch', workflow, '--set-from', gates, '--out', out, '--server', test.url, '--token', TOKEN],
      { stdout: new PassThrough(), stderr, signal: controller.signal },
    );
    expect(code, text).toBe(EXIT.cancelled);
    const summary = await summaryOf(out);
    expect(summary.status).toBe('cancelled');
    expect(summary.rows.map((r) => r.status)).toEqual(['succeeded', 'cancelled', 'cancelled']);
    // rows submitted before the cancel are cancelled on the server too (row 2 is submitted as row 1 starts)
    expect(summary.rows[1].runId).toBeDefined();
    for (const row of summary.rows.slice(1).filter((r) => r.runId !== undefined)) {
      const run = (
        await test.api.get(`/api/runs/${row.runId}`).set('authorization', `Bearer ${TOKEN}`).expect(200)
      ).body as RunDetail;
      expect(run.status).toBe('cancelled');
    }
    expect((await readdir(out)).sort()).toEqual(['row-0001', 'summary.csv', 'summary.json']);
  });
});
