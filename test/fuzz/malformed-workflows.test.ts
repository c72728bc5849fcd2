import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createRuntime, EXIT } from '@diffedit/runtime';
import type { Runtime } from '@diffedit/runtime';

import { runCliCaptured } from '../../apps/runtime/test/capture-cli.js';
import { generateMalformedWorkflows, MALFORMED_KINDS } from './malformed-workflows.js';
import type { MalformedCase } from './malformed-workflows.js';

const SEED = 20_261_126;
const cases = generateMalformedWorkflows(SEED);

describe('the malformed-workflow generator', () => {
  it('makes at least 400 uniquely named cases, the same ones for the same seed', () => {
    expect(cases.length).toBeGreaterThanOrEqual(400);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    const again = generateMalformedWorkflows(SEED, 60);
    expect(again.map((c) => c.text)).toEqual(cases.slice(0, 60).map((c) => c.text));
    const other = generateMalformedWorkflows(SEED + 1, 60);
    expect(other.map((c) => c.text)).not.toEqual(again.map((c) => c.text));
  });

  it('produces every class, even in a set just as large as the list of classes', () => {
    for (const set of [cases, generateMalformedWorkflows(7, MALFORMED_KINDS.length)]) {
      expect(new Set(set.map((c) => c.kind))).toEqual(new Set(MALFORMED_KINDS));
    }
  });

  it('produces what each class says', () => {
    const parses = (c: MalformedCase): boolean => {
      try {
        JSON.parse(c.text);
        return true;
      } catch {
        return false;
      }
    };
    for (const c of cases) {
      if (c.kind === 'invalid-json') expect(parses(c), c.name).toBe(false);
      else if (c.kind !== 'bad-number') expect(parses(c), c.name).toBe(true);
      expect(c.expect, c.name).toBe(c.kind === 'node-failure' ? 'node-failure' : 'invalid');
    }
    const of = (kind: string) => cases.filter((c) => c.kind === kind);
    expect(of('huge-string').every((c) => c.text.length > 1_000_000)).toBe(true);
    expect(of('deep-nesting').every((c) => /(\{"a":){1000}|\[{1000}/.test(c.text))).toBe(true);
    expect(of('big-graph').every((c) => c.text.length > 500_000)).toBe(true);
    expect(
      of('prototype-name').every((c) =>
        /constructor|__proto__|toString|valueOf|hasOwnProperty|isPrototypeOf/.test(c.text),
      ),
    ).toBe(true);
    expect(of('bad-number').some((c) => /NaN|Infinity|1e999|1e308/.test(c.text))).toBe(true);
  });
});

describe('every malformed workflow is refused cleanly by validate and run', () => {
  let dir: string;
  let runtime: Runtime;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffedit-fuzz-'));
    runtime = createRuntime({ inputsDir: dir, modelsDir: join(dir, 'models'), log: () => {} });
  });
  afterAll(async () => {
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The issue or run error places the problem where the case says. */
  const placed = (
    found: Array<{ nodeId: string | null; field?: string }>,
    where: NonNullable<MalformedCase['where']>,
  ): boolean =>
    found.some(
      (i) =>
        i.nodeId === where.nodeId &&
        (where.field === undefined ||
          i.field === where.field ||
          (i.field ?? '').startsWith(`${where.field}.`) ||
          (i.field ?? '').split('.').includes(where.field)),
    );

  it(`${cases.length} cases: exit 2 (or 1 for run-time failures) naming node and field, no crash`, async () => {
    const failures: string[] = [];
    for (const [i, c] of cases.entries()) {
      const file = join(dir, `case-${i}.json`);
      await writeFile(file, c.text);
      const validate = await runCliCaptured(['validate', file, '--json'], { runtime });
      const run = await runCliCaptured(['run', file, '--json'], { runtime });
      const problem = check(c, validate, run);
      if (problem) failures.push(`${c.name}: ${problem}`);
      await rm(file);
    }
    expect(failures).toEqual([]);
  });

  function check(
    c: MalformedCase,
    validate: { code: number; stdout: string; stderr: string },
    run: { code: number; stdout: string; stderr: string },
  ): string | undefined {
    if (validate.code === EXIT.internal || run.code === EXIT.internal) {
      return `crashed: ${validate.stderr.slice(0, 300)} ${run.stderr.slice(0, 300)}`;
    }
    // errors quote user values capped, whatever their size
    const output = validate.stdout.length + validate.stderr.length + run.stderr.length;
    if (output > 20_000) return `printed ${output} characters`;
    const checked = JSON.parse(validate.stdout) as {
      ok: boolean;
      issues: Array<{ nodeId: string | null; field?: string; code: string; message: string }>;
    };
    const report =
      run.stdout === ''
        ? undefined
        : (JSON.parse(run.stdout) as {
            status: string;
            error?: { nodeId: string | null; field?: string; code: string };
          });
    if (c.expect === 'invalid') {
      if (validate.code !== EXIT.invalid || checked.ok) return `validate exited ${validate.code}`;
      if (run.code !== EXIT.invalid) return `run exited ${run.code}: ${run.stderr.slice(0, 300)}`;
      if (checked.issues.length === 0) return 'no issue reported';
      if (c.where && !placed(checked.issues, c.where)) {
        return `no issue at ${JSON.stringify(c.where)}: ${JSON.stringify(checked.issues).slice(0, 400)}`;
      }
      if (report?.status !== 'invalid') return `run reported ${report?.status}`;
      return undefined;
    }
    if (validate.code !== EXIT.ok)
      return `validate refused a well-formed document: ${validate.stdout.slice(0, 300)}`;
    if (run.code !== EXIT.failed) return `run exited ${run.code}: ${run.stderr.slice(0, 300)}`;
    if (report?.status !== 'failed' || !report.error) return `run reported ${report?.status}`;
    if (c.where && !placed([report.error], c.where)) {
      return `error not at ${JSON.stringify(c.where)}: ${JSON.stringify(report.error)}`;
    }
    if (!run.stderr.includes(`✗ node ${report.error.nodeId}`))
      return `stderr does not name the node: ${run.stderr}`;
    return undefined;
  }
});
