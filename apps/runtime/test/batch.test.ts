// `diffedit batch` in this process: the same pixels as separate `diffedit run` calls, the cache shared across
// rows, every input problem found before anything runs (exit 2, nothing written), failing rows recorded.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { InputsFolderKey, ServiceRegistry } from '@diffedit/core';
import { ModelManager, ModelManagerKey } from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';
import { EXIT } from '@diffedit/runtime';
import type { BatchSummary, OutputFs } from '@diffedit/runtime';

import { runCliCaptured } from './capture-cli.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const workflows = join(repo, 'workflows');
const WORKFLOW = join(workflows, 'diffedit-prompts.json');
/** Fewer steps than the shipped workflow: the same graph, quicker on the toy models. */
const CHEAP = ['mask.num_inference_steps=10', 'invert.num_inference_steps=10'];

let dir: string;
let modelsDir: string;
let manager: ModelManager;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffedit-batch-'));
  modelsDir = join(dir, 'models');
  await writeToyPack(modelsDir);
  manager = new ModelManager({ modelsDir, mode: 'in-process', providers: ['cpu'], logger: () => {} });
});
afterAll(async () => {
  await manager.close();
  await rm(dir, { recursive: true, force: true });
});

/** The CLI's wiring, with in-process inference (vitest runs the TypeScript sources, not the built worker). */
function cli(args: string[], signal?: AbortSignal) {
  const services = new ServiceRegistry()
    .set(InputsFolderKey, { root: workflows, resolve: (p: string) => resolve(workflows, p) })
    .set(ModelManagerKey, manager);
  return runCliCaptured(args, { runtimeOptions: { services, modelsDir }, ...(signal ? { signal } : {}) });
}

const sets = (assignments: string[]): string[] => assignments.flatMap((s) => ['--set', s]);

async function csvFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function summaryOf(out: string): Promise<BatchSummary> {
  return JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as BatchSummary;
}

/** Decoded RGBA pixels of a PNG, with its size. */
async function pixels(path: string): Promise<{ width: number; height: number; data: Buffer }> {
  const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

describe('diffedit batch --set-from (in this process)', () => {
  // Quotes, a comma inside a prompt, CRLF line ends, a name column: what a spreadsheet exports.
  const rows =
    'name,image.image,target.text,mask.seed\r\n' +
    'pear,assets/red-apple-on-blue.png,a green pear,0\r\n' +
    '"banana, ripe",assets/red-apple-on-blue.png,"a ""ripe"" banana, yellow",0\r\n' +
    'triangle,assets/white-triangle-on-red.png,a blue triangle,1\r\n';
  const rowSets = [
    ['image.image=assets/red-apple-on-blue.png', 'target.text=a green pear', 'mask.seed=0'],
    ['image.image=assets/red-apple-on-blue.png', 'target.text=a "ripe" banana, yellow', 'mask.seed=0'],
    ['image.image=assets/white-triangle-on-red.png', 'target.text=a blue triangle', 'mask.seed=1'],
  ];
  let out: string;
  let batch: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    out = join(dir, 'out-prompts');
    const csv = await csvFile('prompts.csv', rows);
    batch = await cli(['batch', WORKFLOW, '--set-from', csv, '--out', out, ...sets(CHEAP)]);
  });

  it('runs every row and writes OUT/<name>/ with the same pixels as separate `diffedit run` calls', async () => {
    expect(batch.stderr).not.toContain('✗');
    expect(batch.code).toBe(EXIT.ok);
    expect((await readdir(out)).sort()).toEqual([
      'banana, ripe',
      'pear',
      'summary.csv',
      'summary.json',
      'triangle',
    ]);
    for (const [i, name] of ['pear', 'banana, ripe', 'triangle'].entries()) {
      const single = join(dir, `out-run-${i}`);
      const run = await cli(['run', WORKFLOW, '--out', single, ...sets([...CHEAP, ...rowSets[i]])]);
      expect(run.code, run.stderr).toBe(EXIT.ok);
      expect((await readdir(join(out, name))).sort()).toEqual(['diffedit-prompts.png', 'report.json']);
      const fromBatch = await pixels(join(out, name, 'diffedit-prompts.png'));
      const fromRun = await pixels(join(single, 'diffedit-prompts.png'));
      expect(fromBatch.width).toBe(3 * fromBatch.height); // the [original | mask | edited] grid
      expect(fromBatch.data.equals(fromRun.data), `${name}: pixels differ from diffedit run`).toBe(true);
    }
    // the rows differ: a different prompt or image gives a different edit
    const [a, b, c] = await Promise.all(
      ['pear', 'banana, ripe', 'triangle'].map((n) => pixels(join(out, n, 'diffedit-prompts.png'))),
    );
    expect(a.data.equals(b.data)).toBe(false);
    expect(a.data.equals(c.data)).toBe(false);
  });

  it('reuses cached nodes across rows and reports ran/cached per row in summary.json and summary.csv', async () => {
    const summary = await summaryOf(out);
    expect(summary).toMatchObject({
      workflow: 'diffedit-prompts.json',
      status: 'succeeded',
      counts: { rows: 3, succeeded: 3, failed: 0, cancelled: 0, skipped: 0 },
    });
    const [pear, banana, triangle] = summary.rows;
    expect(pear).toMatchObject({
      row: 1,
      line: 2,
      name: 'pear',
      status: 'succeeded',
      nodes: { ran: 11, cached: 0 },
    });
    expect(pear.outputs).toEqual(['pear/diffedit-prompts.png', 'pear/report.json']);
    // same image and source prompt, new target: only what the target feeds re-runs
    expect(banana.params['target.text']).toBe('a "ripe" banana, yellow');
    expect([...banana.cached].sort()).toEqual(['encode', 'image', 'invert', 'model', 'source']);
    expect([...banana.ran].sort()).toEqual(['denoise', 'grid', 'mask', 'mask_image', 'save', 'target']);
    expect(banana.nodes).toEqual({ ran: 6, cached: 5 });
    // a new image: everything downstream of it runs; the model and the source prompt are still cached
    expect([...triangle.cached].sort()).toEqual(['model', 'source']);
    expect(triangle.nodes).toEqual({ ran: 9, cached: 2 });
    for (const row of summary.rows) expect(row.ms).toBeGreaterThan(0);
    expect(batch.stderr).toMatch(/✓ \[2\/3\] banana, ripe: 6 ran, 5 cached/);

    const csv = parse(await readFile(join(out, 'summary.csv'), 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    expect(csv.map((r) => [r.name, r.status, r.nodes_ran, r.nodes_cached])).toEqual([
      ['pear', 'succeeded', '11', '0'],
      ['banana, ripe', 'succeeded', '6', '5'],
      ['triangle', 'succeeded', '9', '2'],
    ]);
  });
});

describe('diffedit batch: problems found before anything runs (exit 2, nothing written)', () => {
  async function refused(csvText: string, extra: string[] = []): Promise<string> {
    const csv = await csvFile(`bad-${Math.random().toString(36).slice(2)}.csv`, csvText);
    const out = join(dir, `out-refused-${Math.random().toString(36).slice(2)}`);
    const { code, stderr } = await cli(['batch', WORKFLOW, '--set-from', csv, '--out', out, ...extra]);
    expect(code).toBe(EXIT.invalid);
    expect(stderr).toContain('nothing was run');
    expect(existsSync(out), 'the output folder was created').toBe(false);
    return stderr.replaceAll(csv, 'rows.csv');
  }

  it('names an unknown node or param of the header, with what the workflow has', async () => {
    const stderr = await refused('target.txt,nope.text,image\r\na,b,c\r\n');
    expect(stderr).toContain(
      "rows.csv column target.txt: node target (Text) has no param 'txt' (its params: text)",
    );
    expect(stderr).toMatch(
      /rows\.csv column nope\.text: the workflow has no node 'nope' \(its nodes: model, image,/,
    );
    expect(stderr).toContain("rows.csv column 3 'image': a header cell is NODE.PARAM");
  });

  it('names the row, CSV line, column, node and field of every bad value and missing file', async () => {
    const stderr = await refused(
      'image.image,mask.mask_guidance_scale,invert.seed\n' +
        'assets/red-apple-on-blue.png,7.5,0\n' +
        'assets/red-apple-on-blue.png,abc,0\n' +
        '"assets/no-such\nimage.png",-5,1.5\n',
    );
    expect(stderr).toContain(
      'rows.csv row 2 (line 3) › column mask.mask_guidance_scale: node mask (GenerateMask) › mask_guidance_scale: param \'mask_guidance_scale\': expected a finite number, got "abc" [invalid_param]',
    );
    expect(stderr).toMatch(
      /rows\.csv row 3 \(line 4\) › column mask\.mask_guidance_scale: node mask \(GenerateMask\) › mask_guidance_scale: .*-5 is below the minimum 0 \[invalid_param\]/,
    );
    expect(stderr).toMatch(
      /rows\.csv row 3 \(line 4\) › column invert\.seed: node invert \(DDIMInvert\) › seed: .*1\.5/,
    );
    expect(stderr).toMatch(
      /rows\.csv row 3 \(line 4\) › column image\.image: node image \(LoadImage\) › image: no such file 'assets\/no-such\nimage\.png'/,
    );
    expect(stderr).not.toMatch(/row 1 /);
    expect(stderr).toContain('(4 problems)');
  });

  it('refuses an empty CSV, a header without rows, a ragged row, bad or repeated names', async () => {
    expect(await refused('')).toContain('rows.csv is empty');
    expect(await refused('target.text\r\n')).toContain('rows.csv has a header but no rows');
    expect(await refused('target.text,source.text\na,b\nc\n')).toMatch(
      /rows\.csv is not a valid CSV file: .*expect 2, got 1 on line 3/,
    );
    const names = await refused('name,target.text\na,x\n../up,y\nA,z\n,unnamed\nrow-0004,clash\n');
    expect(names).toMatch(
      /rows\.csv row 2 \(line 3\) › column name: the name '\.\.\/up' cannot name an output folder/,
    );
    // one folder on a case-insensitive disk
    expect(names).toContain("rows.csv row 3 (line 4) › column name: 'A' is also the name of row 1");
    // an empty name cell keeps the row's default name, which another row may not take
    expect(names).toContain("rows.csv row 5 (line 6) › column name: 'row-0004' is also the name of row 4");
    expect(names).toContain('(3 problems)');
  });

  it('refuses a --set of a param the CSV also sets, and a --set of an unknown node', async () => {
    const stderr = await refused('target.text\na\n', ['--set', 'target.text=b', '--set', 'ghost.text=c']);
    expect(stderr).toContain('--set target.text: rows.csv also sets it (column target.text)');
    expect(stderr).toContain("--set ghost.text: the workflow has no node 'ghost'");
  });

  it('--images: names the LoadImage candidates when there are several, and needs one source of rows', async () => {
    const doc = JSON.parse(await readFile(WORKFLOW, 'utf8')) as { nodes: { id: string; type: string }[] };
    const second = { ...doc.nodes.find((n) => n.id === 'image')!, id: 'other_image' };
    const twoLoaders = join(workflows, '..', 'workflows'); // images are read from the shipped folder
    const file = join(dir, 'two-loaders.json');
    await writeFile(file, JSON.stringify({ ...doc, nodes: [...doc.nodes, second] }));
    const out = join(dir, 'out-two-loaders');
    const images = join(twoLoaders, 'assets');
    const ambiguous = await cli(['batch', file, '--images', images, '--out', out]);
    expect(ambiguous.code).toBe(EXIT.invalid);
    expect(ambiguous.stderr).toContain(
      '--images: the workflow has 2 LoadImage nodes (image, other_image); choose one with --image-node ID',
    );
    const unknown = await cli(['batch', file, '--images', images, '--image-node', 'nope', '--out', out]);
    expect(unknown.stderr).toMatch(
      /--image-node nope: the workflow has no such node \(its nodes: model, image,/,
    );
    const neither = await cli(['batch', file, '--out', out]);
    expect(neither.code).toBe(EXIT.invalid);
    expect(neither.stderr).toContain('exactly one of --set-from rows.csv and --images DIR');
    expect(existsSync(out)).toBe(false);
  });
});

describe('diffedit batch: failing rows', () => {
  it('--images: a row that fails at run time is recorded (node, field, message), the others finish, exit 1', async () => {
    const images = join(dir, 'images');
    await mkdir(images);
    await copyFile(join(workflows, 'assets', 'red-apple-on-blue.png'), join(images, 'a-apple.png'));
    await writeFile(join(images, 'b-broken.png'), 'not a PNG at all');
    await copyFile(
      join(workflows, 'assets', 'white-triangle-on-red.png'),
      join(images, 'c-triangle été.PNG'),
    );
    await writeFile(join(images, 'notes.txt'), 'not an image, not a row');
    await writeFile(join(images, '._a-apple.png'), 'a hidden companion file, not a row');
    const out = join(dir, 'out-images');
    const { code, stdout, stderr } = await cli([
      'batch',
      WORKFLOW,
      '--images',
      images,
      '--out',
      out,
      '--json',
      ...sets(CHEAP),
    ]);
    expect(code).toBe(EXIT.failed);
    // --json prints the final summary, as written to summary.json
    expect(JSON.parse(stdout)).toEqual(await summaryOf(out));
    expect(stderr).toMatch(/✗ \[2\/3\] b-broken: node image \(LoadImage\) › image failed: /);
    expect(stderr).toContain('✗ 1 of 3 rows failed');
    const summary = await summaryOf(out);
    expect(summary.status).toBe('failed');
    expect(summary.rows.map((r) => [r.name, r.status])).toEqual([
      ['a-apple', 'succeeded'],
      ['b-broken', 'failed'],
      ['c-triangle été', 'succeeded'],
    ]);
    expect(summary.rows[1].error).toMatchObject({ nodeId: 'image', nodeType: 'LoadImage', field: 'image' });
    expect(summary.rows[1].params).toEqual({ 'image.image': join(images, 'b-broken.png') });
    expect(existsSync(join(out, 'a-apple', 'diffedit-prompts.png'))).toBe(true);
    expect(existsSync(join(out, 'c-triangle été', 'diffedit-prompts.png'))).toBe(true);
    // the failed row's report says why; no image was written for it
    expect(await readdir(join(out, 'b-broken'))).toEqual(['report.json']);
  });

  it('a row whose files cannot be written (full disk) fails alone, leaving no partial file', async () => {
    const file = join(dir, 'text.json');
    await writeFile(
      file,
      JSON.stringify({
        format: 'diffedit-studio.workflow',
        version: 1,
        name: 'text',
        nodes: [
          { id: 'text', type: 'Text', params: { text: 'x' } },
          { id: 'show', type: 'ShowValue', params: { filename: 'value.txt' } },
        ],
        edges: [{ id: 'e', from: { node: 'text', output: 'text' }, to: { node: 'show', input: 'value' } }],
      }),
    );
    const csv = await csvFile('texts.csv', 'text.text\nfirst\nsecond\nthird\n');
    const out = join(dir, 'out-full-disk');
    const partial: string[] = [];
    // the real disk, except that files of the second row's folder are half written, then ENOSPC
    const outputFs: OutputFs = {
      async writeFile(path, bytes) {
        if (path.includes(`${sep}row-0002${sep}`)) {
          await writeFile(path, typeof bytes === 'string' ? bytes.slice(0, 2) : bytes.subarray(0, 2));
          partial.push(path);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        await writeFile(path, bytes);
      },
      rename: (from, to) => rename(from, to),
      rm: (path) => rm(path, { force: true }),
    };
    const { code, stderr } = await runCliCaptured(['batch', file, '--set-from', csv, '--out', out], {
      outputFs,
    });
    expect(code).toBe(EXIT.failed);
    expect(stderr).toMatch(
      /✗ \[2\/3\] row-0002: run failed: cannot write the output .*ENOSPC.* \[output_not_written\]/,
    );
    expect(partial).toHaveLength(1);
    const summary = await summaryOf(out);
    expect(summary.rows.map((r) => [r.name, r.status, r.error?.code])).toEqual([
      ['row-0001', 'succeeded', undefined],
      ['row-0002', 'failed', 'output_not_written'],
      ['row-0003', 'succeeded', undefined],
    ]);
    expect(await readdir(join(out, 'row-0002'))).toEqual([]);
    expect(await readFile(join(out, 'row-0001', 'value.txt'), 'utf8')).toBe('first\n');
    expect(await readFile(join(out, 'row-0003', 'value.txt'), 'utf8')).toBe('third\n');
  });

  it('stops on cancel: the finished rows are kept, the rest are marked (exit 130)', async () => {
    const csv = await csvFile('cancel.csv', 'target.text\na pear\na plum\na fig\n');
    const out = join(dir, 'out-cancel');
    const controller = new AbortController();
    const { PassThrough } = await import('node:stream');
    const { runCli } = await import('@diffedit/runtime');
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      // cancel as soon as the first row has finished
      if (text.includes('[1/3]')) controller.abort();
    });
    const services = new ServiceRegistry()
      .set(InputsFolderKey, { root: workflows, resolve: (p: string) => resolve(workflows, p) })
      .set(ModelManagerKey, manager);
    const code = await runCli(['batch', WORKFLOW, '--set-from', csv, '--out', out, ...sets(CHEAP)], {
      stdout: new PassThrough(),
      stderr,
      signal: controller.signal,
      runtimeOptions: { services, modelsDir },
    });
    expect(code).toBe(EXIT.cancelled);
    const summary = await summaryOf(out);
    expect(summary.status).toBe('cancelled');
    expect(summary.rows.map((r) => r.status)).toEqual(['succeeded', 'skipped', 'skipped']);
    expect((await readdir(out)).sort()).toEqual(['row-0001', 'summary.csv', 'summary.json']);
    expect(text).toMatch(/✗ cancelled: 1 succeeded, 0 failed, 0 cancelled, 2 not started/);
  });
});
