import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import {
  benchSdPackFiles,
  ensureBenchSdPack,
  ensureToyPack,
  toyGeneratorFingerprint,
  writePackFiles,
  writeToyPack,
} from '@diffedit/toy-models';

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

/** Where the bench keeps the packs it generates between runs (npm ci clears it with node_modules). */
const PACK_CACHE = fileURLToPath(new URL('../../../../node_modules/.cache/diffedit-bench', import.meta.url));

/**
 * The models folder the benchmarks read: the toy pack and the bench pack, generated once per version of the
 * generator and checked against their stamps afterwards (hashing ~6 MB instead of building the bench UNet's
 * weights, 100–300 ms). One folder per generator fingerprint, so benches of different checkouts or versions
 * never rewrite each other's files; nothing in the bench writes to it. Falls back to a private temporary
 * folder (removed at the end) when the cache cannot be written.
 */
async function benchModels(log: (line: string) => void): Promise<{ dir: string; temporary: boolean }> {
  const dir = join(PACK_CACHE, (await toyGeneratorFingerprint()).slice(0, 16));
  try {
    const wroteToy = await ensureToyPack(dir);
    const wrote = (await ensureBenchSdPack(join(dir, BENCH_MODEL))) || wroteToy;
    log(`[bench] models in ${dir} (${wrote ? 'generated' : 'up to date, checked against their stamps'})`);
    return { dir, temporary: false };
  } catch (error) {
    const temp = await mkdtemp(join(tmpdir(), 'diffedit-bench-'));
    log(
      `[bench] cannot keep the models in ${dir} (${error instanceof Error ? error.message : String(error)});`,
    );
    log(`[bench] writing the toy pack into ${temp}`);
    await writeToyPack(temp);
    await writePackFiles(join(temp, BENCH_MODEL), benchSdPackFiles());
    return { dir: temp, temporary: true };
  }
}

/** Runs the selected benchmarks on the toy and bench packs and returns the report. */
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
  // not ./models: other processes may be regenerating it
  const models = await benchModels(log);
  const modelsDir = models.dir;
  const resources = new BenchResources(modelsDir, log, generateMaskDefault('max_batch'), args.providers);
  const results: BenchResult[] = [];
  const failures: BenchFailure[] = [];
  try {
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
    if (models.temporary) await rm(modelsDir, { recursive: true, force: true });
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
