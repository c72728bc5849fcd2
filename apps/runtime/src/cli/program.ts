import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';

import { Command, CommanderError } from 'commander';

import { formatIssue, workflowJsonSchema } from '@diffedit/core';
import { ModelManagerKey } from '@diffedit/nodes';
import { ensureToyPack } from '@diffedit/toy-models';
import type { RunResult, ValidationIssue } from '@diffedit/core';

import { applyOverrides, parseOverride, UsageError } from '../overrides.js';
import type { ParamOverride } from '../overrides.js';
import { RunProgress } from '../progress.js';
import { buildReport, writeRunOutput } from '../report.js';
import type { RunReport } from '../report.js';
import { createRuntime } from '../runtime.js';
import type { Runtime, RuntimeOptions } from '../runtime.js';

/** Exit codes: 0 success, 1 the run failed, 2 invalid workflow or usage, 130 cancelled. */
export const EXIT = { ok: 0, failed: 1, invalid: 2, cancelled: 130 } as const;

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Draw progress bars (stderr is a terminal). */
  interactive?: boolean;
  /** Cancels a run (the bin wires Ctrl-C to it). */
  signal?: AbortSignal;
  /** Reuse a runtime (and its cache) across calls; otherwise one is created per call. */
  runtime?: Runtime;
  runtimeOptions?: RuntimeOptions;
}

interface RunFlags {
  set: string[];
  targets?: string;
  out?: string;
  json?: boolean;
  inputs?: string;
  models?: string;
  cacheMb?: string;
  providers?: string;
  threads?: string;
}

/** Runs the `diffedit` command line; resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const print = (text: string): void => void io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const printErr = (text: string): void => void io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

  const program = new Command('diffedit')
    .description('Run and inspect DiffEdit Studio workflows')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });

  program
    .command('run')
    .description('validate and run a workflow, writing its files and report.json into --out')
    .argument('<workflow>', 'workflow JSON file')
    .option('--set <NODE.PARAM=VALUE>', 'override a param (JSON value, else string); repeatable', collect, [])
    .option('--targets <ids>', 'comma-separated node ids to run up to (default: every output node)')
    .option('--out <dir>', 'folder for output files and report.json')
    .option('--json', 'print the report as JSON on stdout')
    .option('--inputs <dir>', 'folder relative file params are read from (default: the workflow folder)')
    .option('--models <dir>', 'folder relative model params are found in (default: ./models)')
    .option('--cache-mb <n>', 'output cache budget in MiB (default 1024)')
    .option(
      '--providers <list>',
      'onnxruntime execution providers to try in order (default: $DIFFEDIT_PROVIDERS or cuda,cpu)',
    )
    .option('--threads <n>', 'onnxruntime intra-op threads per model session (default: one per core)')
    .action(async (file: string, flags: RunFlags) => {
      exitCode = await runCommand(file, flags);
    });

  program
    .command('validate')
    .description('check a workflow against the node catalog and print every problem')
    .argument('<workflow>', 'workflow JSON file')
    .option('--targets <ids>', 'comma-separated node ids the run would stop at')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, flags: { targets?: string; json?: boolean }) => {
      const document = await loadWorkflow(file);
      const targets = splitTargets(flags.targets);
      const result = document.ok ? runtimeFor({}).validate(document.value, targets) : document;
      if (flags.json) print(JSON.stringify({ ok: result.ok, issues: result.issues }, null, 2));
      else if (result.ok) print(`✓ ${file} is valid`);
      else printIssues(file, result.issues);
      exitCode = result.ok ? EXIT.ok : EXIT.invalid;
    });

  program
    .command('nodes')
    .description('print the node catalog as JSON')
    .action(() => print(JSON.stringify(runtimeFor({}).listNodes(), null, 2)));

  program
    .command('models')
    .description('list the models folder: role, size, whether each model loads (--probe opens the sessions)')
    .option('--models <dir>', 'models folder', 'models')
    .option('--probe', 'open every model to check that it loads and which execution provider it gets')
    .option(
      '--providers <list>',
      'execution providers to probe with (default: $DIFFEDIT_PROVIDERS or cuda,cpu)',
    )
    .option('--json', 'print the listing as JSON')
    .action(async (flags: { models: string; probe?: boolean; providers?: string; json?: boolean }) => {
      const runtime = runtimeFor({
        modelsDir: flags.models,
        ...providersFrom(flags.providers ?? process.env.DIFFEDIT_PROVIDERS),
      });
      const manager = runtime.services.get(ModelManagerKey);
      const listing = await manager.listModels({ probe: flags.probe ?? false });
      if (listing.some((m) => !m.loads)) exitCode = EXIT.failed;
      if (flags.json) return print(JSON.stringify(listing, null, 2));
      for (const m of listing) {
        const size =
          m.sizeBytes < 1024 * 1024
            ? `${(m.sizeBytes / 1024).toFixed(0)} kB`
            : `${(m.sizeBytes / 1024 / 1024).toFixed(1)} MiB`;
        const providers = m.providers ? ` on ${[...new Set(Object.values(m.providers))].join(', ')}` : '';
        const state = m.loads ? `ok${providers}` : `✗ ${m.error?.message ?? 'does not load'}`;
        print(`${m.name.padEnd(24)} ${(m.role ?? '?').padEnd(10)} ${size.padStart(10)}  ${state}`);
      }
    });

  program
    .command('toy-pack')
    .description('write the embedded toy-world models (toy-sd, toy-flan-t5, toy-blip) unless already current')
    .option('--models <dir>', 'models folder', 'models')
    .action(async (flags: { models: string }) => {
      const wrote = await ensureToyPack(resolve(flags.models));
      printErr(
        wrote
          ? `✓ wrote the toy pack into ${flags.models}`
          : `✓ the toy pack in ${flags.models} is up to date`,
      );
    });

  program
    .command('schema')
    .description('print the JSON Schema of workflow files')
    .option('--write <file>', 'write it to a file instead')
    .action(async (flags: { write?: string }) => {
      const text = `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`;
      if (flags.write) await writeFile(flags.write, text);
      else print(text);
    });

  const created: Runtime[] = [];
  function runtimeFor(options: RuntimeOptions): Runtime {
    if (io.runtime) return io.runtime;
    const runtime = createRuntime({ log: printErr, ...io.runtimeOptions, ...options });
    created.push(runtime);
    return runtime;
  }

  function printIssues(file: string, issues: readonly ValidationIssue[]): void {
    printErr(`✗ ${file} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):`);
    for (const issue of issues) printErr(`  - ${formatIssue(issue)}`);
  }

  async function runCommand(file: string, flags: RunFlags): Promise<number> {
    let overrides: ParamOverride[];
    let cacheBytes: number | undefined;
    let threads: number | undefined;
    try {
      if (flags.threads !== undefined) {
        threads = Number(flags.threads);
        if (!Number.isInteger(threads) || threads < 1 || threads > 1024)
          throw new UsageError(`--threads expects a whole number from 1 to 1024, got '${flags.threads}'`);
      }
      overrides = flags.set.map(parseOverride);
      if (flags.cacheMb !== undefined) {
        const mb = Number(flags.cacheMb);
        if (!(mb >= 0)) throw new UsageError(`--cache-mb expects a number of MiB, got '${flags.cacheMb}'`);
        cacheBytes = mb * 1024 * 1024;
      }
    } catch (error) {
      printErr(`✗ ${(error as Error).message}`);
      return EXIT.invalid;
    }
    const loaded = await loadWorkflow(file);
    const runtime = runtimeFor({
      inputsDir: flags.inputs ?? dirname(resolve(file)),
      ...(flags.models ? { modelsDir: flags.models } : {}),
      ...(cacheBytes !== undefined ? { cacheBytes } : {}),
      ...(threads !== undefined ? { threads } : {}),
      ...providersFrom(flags.providers ?? process.env.DIFFEDIT_PROVIDERS),
    });
    let result: RunResult;
    if (loaded.ok) {
      let document: unknown;
      try {
        document = applyOverrides(
          loaded.value,
          overrides,
          (type, param) => runtime.catalog.get(type)?.params[param]?.kind,
        );
      } catch (error) {
        printErr(`✗ ${(error as Error).message}`);
        return EXIT.invalid;
      }
      const progress = new RunProgress(io.stderr, io.interactive ?? false);
      result = await runtime.run(document, {
        targets: splitTargets(flags.targets),
        signal: io.signal,
        onEvent: progress.onEvent,
      });
    } else {
      result = {
        runId: '',
        status: 'invalid',
        ms: 0,
        nodes: [],
        artifacts: [],
        outputs: {},
        fingerprints: {},
        issues: loaded.issues,
      };
    }
    const name = basename(file);
    let report: RunReport;
    try {
      report = flags.out
        ? await writeRunOutput(resolve(flags.out), name, result, runtime.cache.stats())
        : buildReport(
            name,
            result,
            runtime.cache.stats(),
            result.artifacts.map((a) => a.name),
          );
    } catch (error) {
      // An unusable --out (a file in the way, no permission) is a usage problem, not a node failure.
      printErr(`✗ cannot write the output into ${flags.out}: ${(error as Error).message}`);
      return EXIT.invalid;
    }
    if (flags.json) print(JSON.stringify(report, null, 2));
    switch (result.status) {
      case 'done': {
        const ran = result.nodes.filter((n) => n.status === 'ran').length;
        printErr(`✓ done in ${result.ms.toFixed(0)} ms: ${ran} ran, ${result.nodes.length - ran} cached`);
        if (flags.out)
          printErr(`  wrote ${result.artifacts.length} file(s) and report.json into ${flags.out}`);
        else if (result.artifacts.length > 0) printErr('  (use --out DIR to write the output files)');
        return EXIT.ok;
      }
      case 'invalid':
        if (!flags.json) printIssues(file, result.issues ?? []);
        return EXIT.invalid;
      case 'cancelled':
        printErr('✗ cancelled');
        return EXIT.cancelled;
      case 'failed': {
        const e = result.error!;
        const where = e.nodeId
          ? `node ${e.nodeId}${e.nodeType ? ` (${e.nodeType})` : ''}${e.field ? ` › ${e.field}` : ''}`
          : 'run';
        printErr(`✗ ${where} failed: ${e.message} [${e.code}]`);
        return EXIT.failed;
      }
    }
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    if (error instanceof UsageError) {
      printErr(`✗ ${error.message}`);
      return EXIT.invalid;
    }
    throw error;
  } finally {
    // Runtimes made here hold model sessions and worker threads that would keep the process alive.
    await Promise.all(created.map((runtime) => runtime.close()));
  }
  return exitCode;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function splitTargets(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const targets = splitList(text);
  // An empty list would plan nothing and report success.
  if (targets.length === 0)
    throw new UsageError(`--targets expects node ids separated by commas, got '${text}'`);
  return targets;
}

type Loaded = { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] };

async function loadWorkflow(file: string): Promise<Loaded> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { ok: false, issues: [documentIssue(`cannot read ${file}: ${(error as Error).message}`)] };
  }
  try {
    // Some Windows editors start UTF-8 files with a byte-order mark, which JSON.parse rejects.
    return { ok: true, value: JSON.parse(text.replace(/^\uFEFF/, '')) as unknown };
  } catch (error) {
    return { ok: false, issues: [documentIssue(`${file} is not valid JSON: ${(error as Error).message}`)] };
  }
}

function documentIssue(message: string): ValidationIssue {
  return { nodeId: null, field: '$', code: 'invalid_document', message };
}

/** `--providers cuda,cpu` (or $DIFFEDIT_PROVIDERS) as runtime options; nothing when unset. */
function providersFrom(list: string | undefined): { providers?: string[] } {
  const providers = splitList(list ?? '');
  return providers.length > 0 ? { providers } : {};
}

/** The non-empty, trimmed items of a comma-separated list. */
function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** The version of @diffedit/runtime (src/cli and dist/cli both sit two folders below its package.json). */
function packageVersion(): string {
  const manifest = createRequire(import.meta.url)('../../package.json') as { version: string };
  return manifest.version;
}
