import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { defineNode, NodeError } from '@diffedit/core';
import { createNodeCatalog } from '@diffedit/nodes';
import { createRuntime, EXIT, writeRunOutput } from '@diffedit/runtime';
import type { CliIo, OutputFs, Runtime } from '@diffedit/runtime';

import { runCliCaptured } from './capture-cli.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffedit-cli-hardening-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let ran = 0;
const Step = defineNode({
  type: 'TestStep',
  version: 1,
  title: 'Step',
  category: 'test',
  description: 'counts its runs; warns, fails or crashes on request',
  inputs: {},
  params: {
    mode: { kind: 'enum', options: ['ok', 'warn', 'fail', 'crash'], default: 'ok' },
    name: { kind: 'string', default: 'out.txt' },
  },
  outputs: { text: { type: 'TEXT' } },
  output: true,
  async run(ctx, _inputs, params) {
    ran++;
    if (params.mode === 'fail') throw new NodeError('this input cannot work', 'bad_input', 'mode');
    if (params.mode === 'crash') throw new TypeError("Cannot read properties of undefined (reading 'x')");
    if (params.mode === 'warn') {
      ctx.warn({ code: 'test_warning', field: 'mode', message: 'this probably does nothing' });
    }
    ctx.emitFile({ name: params.name, mime: 'text/plain', bytes: new TextEncoder().encode(`run ${ran}`) });
    return { text: 'ok' };
  },
});

const testRuntime = (): Runtime => createRuntime({ catalog: createNodeCatalog([Step]) });

async function workflowFile(name: string, nodes: Array<{ id: string; params?: object }>): Promise<string> {
  const path = join(dir, name);
  const doc = {
    format: 'diffedit-studio.workflow',
    version: 1,
    name,
    nodes: nodes.map((n) => ({ id: n.id, type: 'TestStep', params: n.params ?? {} })),
    edges: [],
  };
  await writeFile(path, JSON.stringify(doc));
  return path;
}

async function cli(args: string[], io: Omit<CliIo, 'stdout' | 'stderr'> = {}) {
  const runtime = io.runtime ?? testRuntime();
  try {
    return await runCliCaptured(args, { ...io, runtime });
  } finally {
    await runtime.close();
  }
}

describe('the committed bin shim', () => {
  const shim = join(repo, 'apps/runtime/bin/diffedit.js');

  it('is what package.json links, and runs the built CLI', async () => {
    const manifest = JSON.parse(await readFile(join(repo, 'apps/runtime/package.json'), 'utf8'));
    expect(manifest.bin.diffedit).toBe('./bin/diffedit.js');
    const { stdout } = await run(process.execPath, [shim, '--version']);
    expect(stdout.trim()).toBe(manifest.version);
  });

  it('says to build first when dist/ is missing (a fresh clone)', async () => {
    const fresh = join(dir, 'fresh-clone', 'bin');
    await mkdir(fresh, { recursive: true });
    await copyFile(shim, join(fresh, 'diffedit.js'));
    const failure = await run(process.execPath, [join(fresh, 'diffedit.js'), '--version']).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('run npm run build first');
  });
});

describe("the CLI's start-up", () => {
  /** Which of the server's and the queue's CommonJS packages a fresh node has loaded after importing `module`. */
  const loadedBy = async (module: string): Promise<string[]> => {
    const probe = [
      "import { createRequire } from 'node:module';",
      `await import(${JSON.stringify(pathToFileURL(join(repo, module)).href)});`,
      'const cache = Object.keys(createRequire(import.meta.url).cache);',
      "const names = ['express', 'socket.io', 'ioredis', 'bullmq'];",
      'console.log(JSON.stringify(names.filter((m) => cache.some((p) => p.includes(`/node_modules/${m}/`)))));',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe]);
    return JSON.parse(stdout) as string[];
  };

  it('loads express, socket.io and the queue clients only for serve and worker', async () => {
    // ~10 MB of heap and ~0.3 s of start-up that run, batch and validate never use
    expect(await loadedBy('apps/runtime/dist/cli/program.js')).toEqual([]);
    // the probe sees them when they are loaded
    expect(await loadedBy('apps/runtime/dist/server/server.js')).toEqual([
      'express',
      'socket.io',
      'ioredis',
      'bullmq',
    ]);
    expect(await loadedBy('apps/runtime/dist/scale-out/queue-worker.js')).toEqual(['ioredis', 'bullmq']);
  });
});

describe('exit codes: a bug is not a failed node', () => {
  it('a node failing on its input exits 1 naming node and field', async () => {
    const file = await workflowFile('fail.json', [{ id: 'step', params: { mode: 'fail' } }]);
    const { code, stderr } = await cli(['run', file]);
    expect(code).toBe(EXIT.failed);
    expect(stderr).toContain('✗ node step (TestStep) › mode failed: this input cannot work [bad_input]');
  });

  it('an unexpected exception in a node exits 70 with a bug-report request', async () => {
    const file = await workflowFile('crash.json', [{ id: 'step', params: { mode: 'crash' } }]);
    const { code, stderr } = await cli(['run', file]);
    expect(code).toBe(EXIT.internal);
    expect(EXIT.internal).toBe(70);
    expect(stderr).toContain('[internal_error]');
    expect(stderr).toContain('please report it');
  });

  it('an exception escaping the CLI itself exits 70, not 1', async () => {
    const runtime = testRuntime();
    const broken: Runtime = {
      ...runtime,
      validate: () => {
        throw new RangeError('Maximum call stack size exceeded');
      },
    };
    const file = await workflowFile('ok.json', [{ id: 'step' }]);
    const { code, stderr } = await cli(['validate', file], { runtime: broken });
    expect(code).toBe(70);
    expect(stderr).toMatch(/internal error: RangeError: Maximum call stack size exceeded/);
    expect(stderr).toContain('This is a bug in DiffEdit Studio');
  });
});

describe('--out', () => {
  it("refuses --out '' before running anything", async () => {
    const file = await workflowFile('out-empty.json', [{ id: 'step' }]);
    const before = ran;
    const { code, stderr } = await cli(['run', file, '--out', '']);
    expect(code).toBe(EXIT.invalid);
    expect(stderr).toContain("--out needs a folder name, got ''");
    expect(ran).toBe(before);
  });

  it('refuses a file in the way before running anything', async () => {
    const file = await workflowFile('out-file.json', [{ id: 'step' }]);
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'x');
    const before = ran;
    const { code, stderr } = await cli(['run', file, '--out', blocker]);
    expect(code).toBe(EXIT.invalid);
    expect(stderr).toContain('is not a folder');
    expect(ran).toBe(before);
  });
});

describe('atomic outputs', () => {
  /** The real file system, except that writing the `failOn`-th file fails as a full disk does, half written. */
  function fullDiskAfter(failOn: number): OutputFs & { partial: string[] } {
    let writes = 0;
    const partial: string[] = [];
    return {
      partial,
      async writeFile(path, bytes) {
        writes++;
        if (writes === failOn) {
          await writeFile(path, typeof bytes === 'string' ? bytes.slice(0, 3) : bytes.subarray(0, 3));
          partial.push(path);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        await writeFile(path, bytes);
      },
      rename: (from, to) => import('node:fs/promises').then((fs) => fs.rename(from, to)),
      rm: (path) => rm(path, { force: true }),
    };
  }

  it('a write failing half-way leaves no partial file and the earlier outputs unchanged', async () => {
    const out = join(dir, 'atomic');
    const file = await workflowFile('atomic.json', [
      { id: 'a', params: { name: 'a.txt' } },
      { id: 'b', params: { name: 'b.txt' } },
    ]);
    expect((await cli(['run', file, '--out', out])).code).toBe(EXIT.ok);
    const before = {
      a: await readFile(join(out, 'a.txt'), 'utf8'),
      b: await readFile(join(out, 'b.txt'), 'utf8'),
      report: await readFile(join(out, 'report.json'), 'utf8'),
    };
    for (const failOn of [1, 2, 3]) {
      const disk = fullDiskAfter(failOn);
      const { code, stderr } = await cli(['run', file, '--out', out], { outputFs: disk });
      expect(code).toBe(EXIT.failed);
      expect(stderr).toContain('ENOSPC');
      expect(disk.partial).toHaveLength(1);
      expect((await readdir(out)).sort()).toEqual(['a.txt', 'b.txt', 'report.json']);
      expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe(before.a);
      expect(await readFile(join(out, 'b.txt'), 'utf8')).toBe(before.b);
      expect(await readFile(join(out, 'report.json'), 'utf8')).toBe(before.report);
    }
  });

  it('writeRunOutput renames complete files into place', async () => {
    const out = join(dir, 'atomic-direct');
    const renamed: string[] = [];
    const fs: OutputFs = {
      writeFile: (path, bytes) => writeFile(path, bytes),
      rename: async (from, to) => {
        expect(from).toMatch(/\.partial$/);
        renamed.push(to);
        await import('node:fs/promises').then((m) => m.rename(from, to));
      },
      rm: (path) => rm(path, { force: true }),
    };
    const result = await testRuntime().run({
      format: 'diffedit-studio.workflow',
      version: 1,
      name: 'direct',
      nodes: [{ id: 's', type: 'TestStep', params: { name: 's.txt' } }],
      edges: [],
    });
    expect(result.status).toBe('done');
    await writeRunOutput(
      out,
      'x.json',
      result,
      { hits: 0, misses: 0, entries: 0, bytes: 0, evictions: 0, budgetBytes: 0, variantsPerNode: 8 },
      fs,
    );
    expect(renamed).toEqual([join(out, 's.txt'), join(out, 'report.json')]);
  });
});

describe('warnings', () => {
  it('are printed naming node and field, and kept in report.json and --json', async () => {
    const out = join(dir, 'warned');
    const file = await workflowFile('warn.json', [{ id: 'step', params: { mode: 'warn' } }]);
    const { code, stdout, stderr } = await cli(['run', file, '--out', out, '--json']);
    expect(code).toBe(EXIT.ok);
    expect(stderr).toContain('⚠ warning: step (TestStep) › mode: this probably does nothing');
    expect(stderr).toContain('- node step (TestStep) › mode: this probably does nothing [test_warning]');
    const warning = { nodeId: 'step', nodeType: 'TestStep', code: 'test_warning', field: 'mode' };
    expect(JSON.parse(stdout).warnings).toEqual([expect.objectContaining(warning)]);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.warnings).toEqual([expect.objectContaining(warning)]);
  });
});

describe('names that objects already have', () => {
  it('--set NODE.__proto__ / .constructor is an unknown param, not a silent no-op', async () => {
    const file = await workflowFile('proto-set.json', [{ id: 'step' }]);
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const before = ran;
      const { code, stderr } = await cli(['run', file, '--set', `step.${name}=1`]);
      expect(code, name).toBe(EXIT.invalid);
      expect(stderr).toContain(`node step › ${name}:`);
      expect(stderr).toContain('[unknown_param]');
      expect(ran).toBe(before);
    }
  });

  it('a TextTemplate placeholder named {constructor} has no value (does not print a function)', async () => {
    const runtime = createRuntime();
    const result = await runtime.run({
      format: 'diffedit-studio.workflow',
      version: 1,
      name: 'template',
      nodes: [
        { id: 'prompt', type: 'TextTemplate', params: { template: 'a {constructor} and a {toString}' } },
        { id: 'show', type: 'ShowValue', params: {} },
      ],
      edges: [{ id: 'e', from: { node: 'prompt', output: 'text' }, to: { node: 'show', input: 'value' } }],
    });
    await runtime.close();
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ nodeId: 'prompt', field: 'template', code: 'invalid_input' });
    expect(result.error?.message).toContain('placeholder {constructor} has no value');
  });
});
