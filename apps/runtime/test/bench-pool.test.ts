import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BenchUsageError, parseBenchArgs } from '../src/bench/args.js';
import { pairsOfReport, poolPairs, poolReportFiles, POOLED_BENCHMARK } from '../src/bench/pool.js';
import { medianInterval } from '../src/bench/stats.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const bench = join(repo, 'apps/runtime/dist/bench.js');
const run = promisify(execFile);

/** A saved report as `--out` writes it, reduced to what pooling reads. */
function report(pairs: readonly number[]): unknown {
  return {
    overhead_ratio: 0,
    benchmarks: [
      { name: 'workflow-cold', details: {} },
      { name: POOLED_BENCHMARK, details: { overheadRatioPaired: { median: 0, pairs } } },
    ],
  };
}

// two benches whose pairs overlap: 1.001 … 1.031 and 1.011 … 1.041 (31 each; medians 1.016 and 1.026)
const first = Array.from({ length: 31 }, (_, i) => 1.001 + i / 1000);
const second = Array.from({ length: 31 }, (_, i) => 1.011 + i / 1000);

describe('bench --pool arguments', () => {
  it('takes every file after --pool and runs nothing else', () => {
    expect(parseBenchArgs(['--pool', 'a.json', 'b.json'])).toMatchObject({ pool: ['a.json', 'b.json'] });
  });

  it('refuses run options beside it, no files, and options among the files', () => {
    expect(() => parseBenchArgs(['--quick', '--pool', 'a.json'])).toThrow(/runs nothing/);
    expect(() => parseBenchArgs(['--pool'])).toThrow(/expects report files/);
    expect(() => parseBenchArgs(['--pool', 'a.json', '--quick'])).toThrow(BenchUsageError);
  });
});

describe('pooling the overhead ratio pairs', () => {
  it('gives the median and interval of all pairs together, and each bench its own', () => {
    const pooled = poolPairs([
      { file: 'one.json', pairs: first },
      { file: 'two.json', pairs: second },
    ]);
    expect(pooled).toMatchObject({ benchmark: POOLED_BENCHMARK, files: 2, pairs: 62 });
    // the 31st and 32nd of the 62 sorted values are both 1.021 (one from each bench)
    expect(pooled.median).toBe(1.021);
    expect(pooled.interval95).toEqual(medianInterval([...first, ...second]));
    expect(pooled.interval95.coverage).toBeGreaterThanOrEqual(0.95);
    // narrower than either bench's own
    const width = (i: { low: number; high: number }): number => i.high - i.low;
    expect(width(pooled.interval95)).toBeLessThan(width(medianInterval(first)));
    expect(pooled.benches.map((b) => [b.file, b.pairs, b.median])).toEqual([
      ['one.json', 31, 1.016],
      ['two.json', 31, 1.026],
    ]);
    expect(pooled.benches[0].interval95).toEqual({ low: 1.01, high: 1.022, coverage: 0.971 });
  });

  it('names the file and what it lacks when a report cannot be pooled', () => {
    expect(() => pairsOfReport([], 'x.json')).toThrow(/x\.json: not a bench report/);
    expect(() => pairsOfReport({ benchmarks: [{ name: 'workflow-cold' }] }, 'y.json')).toThrow(
      /y\.json: the report has no overhead-bench-unet benchmark/,
    );
    expect(() =>
      pairsOfReport(
        { benchmarks: [{ name: POOLED_BENCHMARK, details: { overheadRatioPaired: {} } }] },
        'z.json',
      ),
    ).toThrow(/z\.json: overhead-bench-unet has no overheadRatioPaired\.pairs/);
    expect(() => pairsOfReport(report([1.02, Number.NaN]), 'n.json')).toThrow(
      /n\.json: .*not a positive number/,
    );
    expect(() => poolPairs([])).toThrow(/at least one report/);
    const many = Array.from({ length: 33 }, (_, i) => ({ file: `${i}.json`, pairs: first }));
    expect(() => poolPairs(many)).toThrow(/1023 pairs in all, at most 1000/);
  });
});

describe('bench --pool on saved reports', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-pool-'));
    await writeFile(join(dir, 'one.json'), JSON.stringify(report(first)));
    await writeFile(join(dir, 'two.json'), JSON.stringify(report(second)));
    await writeFile(join(dir, 'log.txt'), '[bench] all checks passed\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the files and pools them', async () => {
    const pooled = await poolReportFiles([join(dir, 'one.json'), join(dir, 'two.json')]);
    expect([pooled.files, pooled.pairs, pooled.median]).toEqual([2, 62, 1.021]);
    await expect(poolReportFiles([join(dir, 'log.txt')])).rejects.toThrow(/log\.txt: not JSON/);
    await expect(poolReportFiles([join(dir, 'none.json')])).rejects.toThrow(
      /none\.json: cannot read it \(ENOENT\)/,
    );
  });

  it('prints the pooled figures as JSON from the built bench, and exits 2 naming a file it cannot use', async () => {
    const { stdout } = await run(process.execPath, [
      bench,
      '--pool',
      join(dir, 'one.json'),
      join(dir, 'two.json'),
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ files: 2, pairs: 62, median: 1.021 });
    const failed = await run(process.execPath, [bench, '--pool', join(dir, 'log.txt')]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(/log\.txt: not JSON/);
  });
});
