#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';

import { BENCH_USAGE, BenchUsageError, parseBenchArgs } from './bench/args.js';
import type { BenchArgs } from './bench/args.js';
import type { BenchReport } from './bench/bench-report.js';
import { poolReportFiles } from './bench/pool.js';
import { runBench } from './bench/run.js';

// `npm run bench [-- --quick] [-- --only NAME]`: one JSON report on stdout, progress on stderr; `-- --pool FILE…`
// pools saved reports instead of running anything.
const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(argv: readonly string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv, process.env);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    log(`✗ ${error.message}\n${BENCH_USAGE}`);
    return 2;
  }
  if (args.help) {
    log(BENCH_USAGE);
    return 0;
  }
  let report: BenchReport;
  try {
    if (args.pool !== undefined) {
      // `--pool FILE…`: the pooled overhead ratio instead of a run
      process.stdout.write(`${JSON.stringify(await poolReportFiles(args.pool), null, 2)}\n`);
      return 0;
    }
    report = await runBench(args, log);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    log(`✗ ${error.message}`);
    return 2;
  }
  const json = `${JSON.stringify(report, null, 2)}\n`;
  process.stdout.write(json);
  if (args.out !== undefined) {
    await writeFile(args.out, json);
    log(`[bench] wrote ${args.out}`);
  }
  log(
    `[bench] ${report.ok ? 'all checks passed' : 'SOME CHECKS FAILED'} in ${(report.totalMs / 1000).toFixed(1)} s`,
  );
  return report.ok ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
