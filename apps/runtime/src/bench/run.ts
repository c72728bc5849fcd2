import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { benchSdPackFiles, writePackFiles, writeToyPack } from '@diffedit/toy-models';

import { selectBenchmarks } from './args.js';
import type { BenchArgs } from './args.js';
import type { BenchFailure, BenchReport, BenchResult, HeadlineFigures } from './bench-report.js';
import { buildBenchReport, headlineFigures, machineInfo } from './bench-report.js';
import { BenchResources } from './resources.js';
import { benchSuite, runBenchmark } from './suite.js';
import { generateMaskDefault } from './unet-benches.js';
import { BENCH_MODEL } from './overhead-benches.js';

/** The workflow the workflow benchmarks run (its 512×512 demo image sits in workflows/assets/). */
const WORKFLOW = fileURLToPath(new URL('../../../../workflows/diffedit-prompts.json', import.meta.url));

/** Runs the selected benchmarks on a freshly generated toy pack and returns the report. */
export async function runBench(
  args: BenchArgs,
  log: (line: string) => void = (line) => void process.stderr.write(`${line}\n`),
): Promise<HeadlineFigures & BenchReport> {
  const suite = benchSuite();
  const selected = new Set(
    selectBenchmarks(
      suite.map((b) => b.name),
      args.only,
    ),
  );
  const startedAt = new Date();
  const start = performance.now();
  // a private models folder: other processes may be regenerating ./models
  const modelsDir = await mkdtemp(join(tmpdir(), 'diffedit-bench-'));
  const resources = new BenchResources(modelsDir, log, generateMaskDefault('max_batch'), args.providers);
  const results: BenchResult[] = [];
  const failures: BenchFailure[] = [];
  try {
    log(`[bench] writing the toy pack into ${modelsDir}`);
    await writeToyPack(modelsDir);
    await writePackFiles(join(modelsDir, BENCH_MODEL), benchSdPackFiles());
    const ctx = {
      quick: args.quick,
      modelsDir,
      workflowPath: WORKFLOW,
      log,
      resources,
      ...(args.providers === undefined ? {} : { providers: args.providers }),
      ...(args.threads === undefined ? {} : { threads: args.threads }),
      ...(args.spin === undefined ? {} : { spin: args.spin }),
    };
    for (const definition of suite.filter((b) => selected.has(b.name))) {
      log(`[bench] ${definition.name}: ${definition.description}`);
      try {
        const result = await runBenchmark(definition, ctx);
        results.push(result);
        const failed = result.checks.filter((c) => !c.ok);
        log(
          `[bench] ${definition.name}: median ${result.ms.median} ms over ${result.repetitions}` +
            (failed.length > 0 ? `; FAILED: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}` : ''),
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push({ name: definition.name, error: message });
        log(`[bench] ${definition.name} failed: ${message}`);
      }
    }
  } finally {
    await resources.close();
    await rm(modelsDir, { recursive: true, force: true });
  }
  const machine = machineInfo(resources.providerSummary());
  const report = buildBenchReport(
    startedAt,
    args.quick,
    machine,
    performance.now() - start,
    results,
    failures,
  );
  return { ...headlineFigures(results), ...report };
}
