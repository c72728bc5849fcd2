import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { defineNode } from '@diffedit/core';
import { createNodeCatalog } from '@diffedit/nodes';
import { createRuntime, EXIT } from '@diffedit/runtime';
import type { CliIo, Runtime } from '@diffedit/runtime';

import { runCliCaptured } from './capture-cli.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
let dir: string;

const workflow = (extra: { nodes?: unknown[]; edges?: unknown[] } = {}) => ({
  format: 'diffedit-studio.workflow',
  version: 1,
  name: 'cli test',
  nodes: [
    { id: 'subject', type: 'Text', params: { text: 'cat' } },
    { id: 'prompt', type: 'TextTemplate', params: { template: 'a photo of a {a}' } },
    { id: 'show', type: 'ShowValue', params: { filename: 'prompt.txt' } },
    ...(extra.nodes ?? []),
  ],
  edges: [
    { id: 'e1', from: { node: 'subject', output: 'text' }, to: { node: 'prompt', input: 'a' } },
    { id: 'e2', from: { node: 'prompt', output: 'text' }, to: { node: 'show', input: 'value' } },
    ...(extra.edges ?? []),
  ],
});

function cli(
  args: string[],
  runtime?: Runtime,
  io: Pick<CliIo, 'signal' | 'interactive'> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCliCaptured(args, { ...io, ...(runtime ? { runtime } : {}) });
}

async function writeWorkflow(name: string, doc: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(doc));
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffedit-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('diffedit models', () => {
  it('lists a user’s --models folder without writing into it: a broken model is named, a folder without model files is skipped', async () => {
    const models = join(dir, 'models-listing');
    await mkdir(join(models, 'half-sd', 'unet'), { recursive: true });
    await writeFile(join(models, 'half-sd', 'model_index.json'), '{}');
    await mkdir(join(models, 'scripts'), { recursive: true });
    await writeFile(join(models, 'scripts', 'export.py'), 'print("not a model")\n');
    const { code, stdout } = await cli(['models', '--models', models, '--json', '--providers', 'cpu']);
    expect(code).toBe(EXIT.failed);
    const listing = JSON.parse(stdout) as {
      name: string;
      role?: string;
      loads: boolean;
      error?: { message: string };
    }[];
    expect(listing.map((m) => [m.name, m.role, m.loads])).toEqual([['half-sd', 'diffusion', false]]);
    expect(listing[0].error?.message).toMatch(/half-sd.*model\.onnx/);
    expect((await readdir(models)).sort()).toEqual(['half-sd', 'scripts']);
  });

  it('writes the toy pack into the runtime’s own ./models only, or where toy-pack is asked to', async () => {
    const cwd = process.cwd();
    const work = join(dir, 'fresh-checkout');
    await mkdir(work);
    try {
      process.chdir(work);
      const { code, stdout } = await cli(['models', '--json', '--providers', 'cpu']);
      expect(code).toBe(EXIT.ok);
      const listed = (JSON.parse(stdout) as { name: string; loads: boolean }[]).map((m) => [m.name, m.loads]);
      expect(listed).toEqual([
        ['toy-blip', true],
        ['toy-flan-t5', true],
        ['toy-sd', true],
      ]);
      expect(existsSync(join(work, 'models', 'toy-pack.json'))).toBe(true);
    } finally {
      process.chdir(cwd);
    }
    const asked = join(dir, 'asked-for-toys');
    const { code } = await cli(['toy-pack', '--models', asked]);
    expect(code).toBe(EXIT.ok);
    expect(existsSync(join(asked, 'toy-sd', 'unet', 'model.onnx'))).toBe(true);
  });
});

describe('diffedit run', () => {
  it('does not write the toy pack into --models, and tries the providers named by --providers, in order', async () => {
    const models = join(dir, 'models');
    await mkdir(models);
    const file = await writeWorkflow('load-model.json', {
      ...workflow(),
      nodes: [{ id: 'model', type: 'LoadDiffusionModel', params: { model: 'toy-sd' } }],
      edges: [],
    });
    const base = ['run', file, '--models', models, '--targets', 'model'];
    const absent = await cli([...base, '--providers', 'cpu']);
    expect(absent.code).toBe(EXIT.failed);
    expect(absent.stderr).toMatch(/model \(LoadDiffusionModel\) › model failed: .*toy-sd/);
    expect(await readdir(models)).toEqual([]);
    expect((await cli(['toy-pack', '--models', models])).code).toBe(EXIT.ok);
    const bogus = await cli([...base, '--providers', 'no-such-ep']);
    expect(bogus.code).toBe(EXIT.failed);
    expect(bogus.stderr).toMatch(
      /cannot open .*text_encoder.*model\.onnx with any execution provider \(no-such-ep:/,
    );
    const fallback = await cli([...base, '--providers', 'no-such-ep, cpu']);
    expect(fallback.code).toBe(EXIT.ok);
    expect(fallback.stderr).toContain('execution provider cpu');
    expect(existsSync(join(models, 'toy-sd', 'unet', 'model.onnx'))).toBe(true);
  });

  it('runs a workflow, writes its files and report.json, and applies --set', async () => {
    const file = await writeWorkflow('ok.json', workflow());
    const out = join(dir, 'out-ok');
    const { code, stderr } = await cli(['run', file, '--out', out, '--set', 'subject.text=dog']);
    expect(code).toBe(EXIT.ok);
    expect(await readFile(join(out, 'prompt.txt'), 'utf8')).toBe('a photo of a dog\n');
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.status).toBe('done');
    expect(Object.keys(report.nodes)).toEqual(['subject', 'prompt', 'show']);
    expect(report.nodes.show).toMatchObject({ type: 'ShowValue', status: 'ran', files: ['prompt.txt'] });
    expect(report.nodes.subject.files).toEqual([]);
    expect(report.nodes.prompt.outputs).toEqual({ text: '"a photo of a dog"' });
    // every node's cache key, all different; no file/model params, so no fingerprints
    const keys = Object.values(report.nodes).map((n) => (n as { cacheKey: string }).cacheKey);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(keys).size).toBe(3);
    expect(report.fingerprints).toEqual({});
    expect(stderr).toContain('✓ show (ShowValue)');
    expect(stderr).toMatch(/✓ prompt \(TextTemplate\) [\d.]+ ms text="a photo of a dog"/);
  });

  it('takes --set values as typed for text params, and as JSON for the others', async () => {
    const file = await writeWorkflow('set-kinds.json', {
      ...workflow({
        nodes: [
          { id: 'count', type: 'Integer' },
          { id: 'shown', type: 'ShowValue', params: { filename: 'count.txt' } },
        ],
        edges: [
          { id: 'e3', from: { node: 'count', output: 'value' }, to: { node: 'shown', input: 'value' } },
        ],
      }),
    });
    const out = join(dir, 'out-set-kinds');
    const set = ['--set', 'subject.text=42', '--set', 'count.value=7', '--set', 'show.filename=null'];
    const { code, stderr } = await cli(['run', file, '--out', out, ...set]);
    expect(stderr).not.toContain('invalid_param');
    expect(code).toBe(EXIT.ok);
    expect(await readFile(join(out, 'null'), 'utf8')).toBe('a photo of a 42\n');
    expect(await readFile(join(out, 'count.txt'), 'utf8')).toBe('7\n');
    const wrong = await cli(['run', file, '--set', 'count.value=seven']);
    expect(wrong.code).toBe(EXIT.invalid);
    expect(wrong.stderr).toContain(
      'node count › value: param \'value\': expected a finite number, got "seven"',
    );
  });

  it('exits 2 naming the folder when --out cannot be written', async () => {
    const file = await writeWorkflow('blocked.json', workflow());
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'not a folder');
    const { code, stderr } = await cli(['run', file, '--out', join(blocker, 'out')]);
    expect(code).toBe(EXIT.invalid);
    expect(stderr).toContain(`✗ cannot write the output into ${join(blocker, 'out')}:`);
  });

  it('reuses the cache across runs in one process and still writes the output files', async () => {
    const runtime = createRuntime();
    const file = await writeWorkflow('cached.json', workflow());
    await cli(['run', file, '--out', join(dir, 'first')], runtime);
    const out = join(dir, 'second');
    const second = await cli(
      ['run', file, '--out', out, '--set', 'prompt.template=an image of a {a}', '--json'],
      runtime,
    );
    expect(second.code).toBe(EXIT.ok);
    const report = JSON.parse(second.stdout);
    expect(
      Object.fromEntries(
        Object.entries(report.nodes).map(([id, n]) => [id, (n as { status: string }).status]),
      ),
    ).toEqual({
      subject: 'cached',
      prompt: 'ran',
      show: 'ran',
    });
    const third = await cli(['run', file, '--out', join(dir, 'third'), '--json'], runtime);
    expect(JSON.parse(third.stdout).nodes.show).toMatchObject({ status: 'cached', files: ['prompt.txt'] });
    expect(await readFile(join(dir, 'third', 'prompt.txt'), 'utf8')).toBe('a photo of a cat\n');
    await runtime.close();
  });

  it('prints structured errors and exits 2 for an invalid workflow (JSON with --json)', async () => {
    const file = await writeWorkflow(
      'invalid.json',
      workflow({
        nodes: [{ id: 'n', type: 'Number', params: { value: 'x' } }],
        edges: [
          { id: 'e3', from: { node: 'subject', output: 'text' }, to: { node: 'show', input: 'value' } },
        ],
      }),
    );
    const human = await cli(['run', file]);
    expect(human.code).toBe(EXIT.invalid);
    expect(human.stderr).toContain(
      'node n › value: param \'value\': expected a finite number, got "x" [invalid_param]',
    );
    expect(human.stderr).toContain('[input_connected_twice]');
    const json = await cli(['run', file, '--json', '--out', join(dir, 'out-invalid')]);
    expect(json.code).toBe(EXIT.invalid);
    expect(JSON.parse(json.stdout).issues.map((i: { code: string }) => i.code)).toEqual([
      'invalid_param',
      'input_connected_twice',
    ]);
    expect(existsSync(join(dir, 'out-invalid', 'report.json'))).toBe(true);
  });

  it('exits 1 and reports the failing node when a node fails', async () => {
    const file = await writeWorkflow('fails.json', workflow());
    const out = join(dir, 'out-fail');
    const { code, stderr } = await cli(['run', file, '--out', out, '--set', 'prompt.template={b}']);
    expect(code).toBe(EXIT.failed);
    expect(stderr).toContain('✗ node prompt (TextTemplate) › template failed: placeholder {b} has no value');
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.error).toMatchObject({
      nodeId: 'prompt',
      nodeType: 'TextTemplate',
      field: 'template',
      code: 'invalid_input',
    });
    expect(report.nodes.prompt.status).toBe('failed');
    expect(report.nodes.subject.status).toBe('ran');
  });

  it('exits 130 and reports the cancelled node when the run is cancelled (Ctrl-C) mid-node', async () => {
    const controller = new AbortController();
    const Wait = defineNode({
      type: 'TestWait',
      version: 1,
      title: 'Wait',
      category: 'test',
      description: 'reports progress until cancelled',
      inputs: {},
      params: {},
      outputs: { text: { type: 'TEXT' } },
      async run(ctx) {
        for (let step = 1; ; step++) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          ctx.progress(step, 1000);
          // Ctrl-C once the node is surely under way (a fixed delay would race a slow start)
          if (step === 3) controller.abort();
        }
      },
    });
    const runtime = createRuntime({ catalog: createNodeCatalog([Wait]) });
    const file = await writeWorkflow('cancel.json', {
      ...workflow(),
      nodes: [
        { id: 'wait', type: 'TestWait' },
        { id: 'show', type: 'ShowValue' },
      ],
      edges: [{ id: 'e', from: { node: 'wait', output: 'text' }, to: { node: 'show', input: 'value' } }],
    });
    const out = join(dir, 'out-cancel');
    const { code, stderr } = await cli(['run', file, '--out', out], runtime, { signal: controller.signal });
    expect(code).toBe(EXIT.cancelled);
    expect(stderr).toContain('✗ cancelled');
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.status).toBe('cancelled');
    expect(report.nodes.wait.status).toBe('cancelled');
    expect(report.nodes.show.status).toBe('pending');
    await runtime.close();
  });

  it('draws a progress bar per node on a terminal', async () => {
    const file = await writeWorkflow('bars.json', workflow());
    const { code, stderr } = await cli(['run', file], undefined, { interactive: true });
    expect(code).toBe(EXIT.ok);
    expect(stderr).toContain('▶ running 3 node(s), 0 cached');
    for (const node of ['subject (Text)', 'prompt (TextTemplate)', 'show (ShowValue)']) {
      expect(stderr).toMatch(new RegExp(`✓ ${node.replace(/[()]/g, '\\$&')} \\[█+\\] 1/1 `));
    }
  });

  it('runs only up to --targets', async () => {
    const file = await writeWorkflow('targets.json', workflow());
    const { code, stdout } = await cli(['run', file, '--targets', 'prompt', '--json']);
    expect(code).toBe(EXIT.ok);
    expect(Object.keys(JSON.parse(stdout).nodes)).toEqual(['subject', 'prompt']);
    for (const command of ['run', 'validate']) {
      const empty = await cli([command, file, '--targets', ' , ']);
      expect(empty.code).toBe(EXIT.invalid);
      expect(empty.stderr).toContain("--targets expects node ids separated by commas, got ' , '");
    }
  });

  it('takes --threads as a whole number of onnxruntime threads, refusing anything else', async () => {
    const file = await writeWorkflow('threads.json', workflow());
    expect((await cli(['run', file, '--threads', '1', '--json'])).code).toBe(EXIT.ok);
    for (const bad of ['0', 'two', '1.5']) {
      const refused = await cli(['run', file, '--threads', bad]);
      expect(refused.code).toBe(EXIT.invalid);
      expect(refused.stderr).toContain(`--threads expects a whole number from 1 to 1024, got '${bad}'`);
    }
  });

  it('refuses a --cache-variants that is not a whole number ≥ 0, for serve and worker, before starting', async () => {
    for (const command of [
      ['serve', '--port', '0'],
      ['worker', '--queue', 'redis://127.0.0.1:1'],
    ]) {
      for (const bad of ['-1', '1.5', 'many']) {
        const refused = await cli([...command, '--cache-variants', bad]);
        expect(refused.code).toBe(EXIT.invalid);
        expect(refused.stderr).toContain(`--cache-variants expects a whole number ≥ 0, got '${bad}'`);
      }
    }
  });

  it('rejects a malformed --set, an unknown --set node, and unreadable or non-JSON files', async () => {
    const file = await writeWorkflow('usage.json', workflow());
    expect((await cli(['run', file, '--set', 'novalue'])).code).toBe(EXIT.invalid);
    const unknown = await cli(['run', file, '--set', 'ghost.text=1']);
    expect(unknown.stderr).toContain("the workflow has no node 'ghost'");
    const notJson = join(dir, 'broken.json');
    await writeFile(notJson, '{ nope');
    const broken = await cli(['run', notJson]);
    expect(broken.code).toBe(EXIT.invalid);
    expect(broken.stderr).toContain('is not valid JSON');
    expect((await cli(['run', join(dir, 'missing.json')])).code).toBe(EXIT.invalid);
    const bom = join(dir, 'bom.json');
    await writeFile(bom, `\uFEFF${JSON.stringify(workflow())}`);
    expect(await cli(['validate', bom])).toMatchObject({ code: EXIT.ok });
  });
});

describe('diffedit validate / nodes / schema', () => {
  it('validates, listing every issue', async () => {
    const good = await writeWorkflow('good.json', workflow());
    expect(await cli(['validate', good])).toMatchObject({ code: 0 });
    const bad = await writeWorkflow('bad.json', {
      ...workflow(),
      nodes: [{ id: 'x', type: 'Nope' }],
      edges: [],
    });
    const result = await cli(['validate', bad, '--json']);
    expect(result.code).toBe(EXIT.invalid);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      issues: [{ code: 'unknown_node_type', nodeId: 'x' }, { code: 'no_output_node' }],
    });
  });

  it('prints its version', async () => {
    const { version } = JSON.parse(await readFile(join(repo, 'apps/runtime/package.json'), 'utf8'));
    expect(await cli(['--version'])).toMatchObject({ code: EXIT.ok, stdout: `${version}\n` });
  });

  it('prints the catalog as JSON', async () => {
    const { code, stdout } = await cli(['nodes']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).map((n: { type: string }) => n.type)).toContain('TextTemplate');
  });
});

describe('the built bin', () => {
  const bin = join(repo, 'apps/runtime/dist/cli.js');
  it.skipIf(!existsSync(bin))('runs as a separate process with the right exit codes', async () => {
    const run = promisify(execFile);
    const file = await writeWorkflow('bin.json', workflow());
    const out = join(dir, 'out-bin');
    await run(process.execPath, [bin, 'run', file, '--out', out]);
    expect(await readFile(join(out, 'prompt.txt'), 'utf8')).toBe('a photo of a cat\n');
    const failure = await run(process.execPath, [bin, 'run', file, '--set', 'prompt.template={z}']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: EXIT.failed });
    expect((failure as { stderr: string }).stderr).toContain('placeholder {z} has no value');
  });
});
