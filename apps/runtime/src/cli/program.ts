import { access, constants, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';

import { Command, CommanderError } from 'commander';

import { formatIssue, INTERNAL_ERROR, ownValue, workflowJsonSchema } from '@diffedit/core';
import { ModelManagerKey } from '@diffedit/nodes';
import { ensureToyPack } from '@diffedit/toy-models';
import type { RunResult, ValidationIssue } from '@diffedit/core';

import { batchCommand } from '../batch/command.js';
import type { BatchFlags } from '../batch/command.js';
import { applyOverrides, parseOverride, UsageError } from '../overrides.js';
import type { ParamOverride } from '../overrides.js';
import { RunProgress } from '../progress.js';
import { buildReport, writeRunOutput } from '../report.js';
import type { OutputFs, RunReport } from '../report.js';
import { createRuntime } from '../runtime.js';
import type { Runtime, RuntimeOptions } from '../runtime.js';
import type { DiffEditServer, ServerOptions } from '../server/server.js';
import { addWorkerCommand } from './worker-command.js';

/**
 * Exit codes: 0 success, 1 the run failed (a node failed on its input), 2 invalid workflow or usage,
 * 70 internal error (a bug: an unexpected exception, reported with a request for a bug report; EX_SOFTWARE),
 * 130 cancelled (Ctrl-C or SIGTERM).
 */
export const EXIT = { ok: 0, failed: 1, invalid: 2, internal: 70, cancelled: 130 } as const;

/** What an unexpected exception prints: enough for a bug report, distinct from a failed node. */
export function internalErrorMessage(error: unknown): string {
  const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return (
    `✗ internal error: ${detail}\n` +
    '  This is a bug in DiffEdit Studio, not a problem with your workflow. Please report it with the command\n' +
    '  you ran, the workflow file and the message above.'
  );
}

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
  /** Extra options for `serve` (tests). */
  serverOptions?: Partial<ServerOptions>;
  /** How output files are written (tests inject a full disk). */
  outputFs?: OutputFs;
}

interface ServeFlags {
  host: string;
  port: string;
  data: string;
  models: string;
  token?: string;
  providers?: string;
  cacheMb?: string;
  cacheVariants?: string;
  threads?: string;
  corsOrigin?: string;
  queue?: string;
  maxAttempts?: string;
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
  maxMegapixels?: string;
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
    .option('--max-megapixels <n>', 'refuse image files with more pixels (1 MP = 1024 × 1024; default 16)')
    .option(
      '--providers <list>',
      'onnxruntime execution providers to try in order (default: $DIFFEDIT_PROVIDERS or cuda,cpu)',
    )
    .option('--threads <n>', 'onnxruntime intra-op threads per model session (default: one per core)')
    .action(async (file: string, flags: RunFlags) => {
      exitCode = await runCommand(file, flags);
    });

  program
    .command('batch')
    .description(
      'run a workflow once per CSV row or image file; OUT/<row>/ and OUT/summary.json (docs/batch.md)',
    )
    .argument('<workflow>', 'workflow JSON file')
    .option(
      '--set-from <rows.csv>',
      'a CSV whose header cells are NODE.PARAM (and optionally name): one run per row',
    )
    .option('--images <dir>', 'one run per image file in DIR (png, jpg, jpeg, webp; by name)')
    .option('--image-node <id>', 'with --images: the node that reads the image (default: the only LoadImage)')
    .option('--set <NODE.PARAM=VALUE>', 'override a param in every row (as for run); repeatable', collect, [])
    .requiredOption('--out <dir>', 'folder for OUT/<row>/… and summary.json, summary.csv')
    .option('--server <url>', 'run through a diffedit server (its HTTP API) instead of in this process')
    .option('--token <token>', 'with --server: its bearer token (default: $DIFFEDIT_TOKEN)')
    .option('--parallel <n>', 'with --server: rows in flight at once (default 4)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--inputs <dir>', 'folder relative file params are read from (default: the workflow folder)')
    .option('--models <dir>', 'folder relative model params are found in (default: ./models)')
    .option('--cache-mb <n>', 'output cache budget in MiB (default 1024)')
    .option('--providers <list>', 'onnxruntime execution providers to try in order (default: cuda,cpu)')
    .option('--threads <n>', 'onnxruntime intra-op threads per model session (default: one per core)')
    .action(async (file: string, flags: BatchFlags) => {
      exitCode = await batchCommand(file, flags, {
        print,
        printErr,
        runtimeFor,
        ...(io.signal ? { signal: io.signal } : {}),
        ...(io.outputFs ? { outputFs: io.outputFs } : {}),
      });
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
    .command('serve')
    .description('serve the editor and the HTTP/socket.io API (docs/api.md) until Ctrl-C or SIGTERM')
    .option('--host <host>', 'address to listen on; any but loopback needs --token', '127.0.0.1')
    .option('--port <n>', 'port (0 picks a free one)', '5151')
    .option('--data <dir>', 'uploads, outputs, saved workflows and the database', 'data')
    .option('--models <dir>', 'models folder', 'models')
    .option(
      '--token <token>',
      'bearer token every API call and socket must present (default: $DIFFEDIT_TOKEN)',
    )
    .option(
      '--providers <list>',
      'onnxruntime execution providers to try in order (default: $DIFFEDIT_PROVIDERS or cuda,cpu)',
    )
    .option('--cache-mb <n>', 'intermediate-result cache budget in MiB (default 1024)')
    .option(
      '--cache-variants <n>',
      'results kept per node: the last N variants (default 4; 0 = only the budget limits)',
    )
    .option('--threads <n>', 'onnxruntime intra-op threads per model session (default: one per core)')
    .option('--cors-origin <list>', 'comma-separated origins (http://host:port) whose pages may use the API')
    .option(
      '--queue <url>',
      'queue runs in Redis for `diffedit worker` processes: redis://[:PASSWORD@]HOST:PORT',
    )
    .option(
      '--max-attempts <n>',
      'with --queue: times a run is started when its workers keep dying (default 3)',
    )
    .action(async (flags: ServeFlags) => {
      exitCode = await serveCommand(flags);
    });

  addWorkerCommand(program, {
    ...(io.signal ? { signal: io.signal } : {}),
    printErr,
    setExit: (code) => (exitCode = code),
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

  async function serveCommand(flags: ServeFlags): Promise<number> {
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port expects a port number, got '${flags.port}'`);
    const cacheMb = flags.cacheMb === undefined ? undefined : Number(flags.cacheMb);
    if (cacheMb !== undefined && !(cacheMb >= 0))
      throw new UsageError(`--cache-mb expects a number of MiB, got '${flags.cacheMb}'`);
    const threads = parseThreads(flags.threads);
    const cacheVariants = parseCacheVariants(flags.cacheVariants);
    const maxAttempts = flags.maxAttempts === undefined ? undefined : Number(flags.maxAttempts);
    if (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1))
      throw new UsageError(`--max-attempts expects a whole number ≥ 1, got '${flags.maxAttempts}'`);
    let server: DiffEditServer;
    try {
      // loaded here, not with the CLI: express, socket.io and the queue's clients are ~10 MB of heap and
      // ~0.3 s of start-up that `run` and `batch` never use (and each of their major GCs would mark)
      const { startServer } = await import('../server/server.js');
      server = await startServer({
        host: flags.host,
        port,
        dataDir: flags.data,
        modelsDir: flags.models,
        ...((flags.token ?? process.env.DIFFEDIT_TOKEN)
          ? { token: flags.token ?? process.env.DIFFEDIT_TOKEN }
          : {}),
        ...providersFrom(flags.providers ?? process.env.DIFFEDIT_PROVIDERS),
        ...(cacheMb !== undefined ? { cacheBytes: cacheMb * 1024 * 1024 } : {}),
        ...(cacheVariants !== undefined ? { cacheVariants } : {}),
        ...(threads !== undefined ? { threads } : {}),
        ...(flags.corsOrigin !== undefined ? { corsOrigins: splitList(flags.corsOrigin) } : {}),
        ...(flags.queue !== undefined ? { queue: flags.queue } : {}),
        ...(maxAttempts !== undefined ? { maxAttempts } : {}),
        log: printErr,
        ...io.serverOptions,
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE')
        printErr(`✗ port ${port} on ${flags.host} is in use; pick another with --port`);
      else printErr(`✗ cannot start the server: ${(error as Error).message}`);
      return EXIT.invalid;
    }
    print(`DiffEdit Studio is serving on ${server.url}  (data: ${resolve(flags.data)})`);
    const token = flags.token ?? process.env.DIFFEDIT_TOKEN;
    // The editor takes the token from its address once (then forgets it there): a link to click.
    if (token) print(`open the editor with its token: ${server.url}/?token=${encodeURIComponent(token)}`);
    const signal = io.signal ?? new AbortController().signal;
    await new Promise<void>((done) => {
      if (signal.aborted) return done();
      signal.addEventListener('abort', () => done(), { once: true });
    });
    printErr('stopping: no new runs, cancelling the running one…');
    await server.close();
    printErr('✓ stopped');
    return EXIT.ok;
  }

  async function runCommand(file: string, flags: RunFlags): Promise<number> {
    let overrides: ParamOverride[];
    let cacheBytes: number | undefined;
    let threads: number | undefined;
    let maxPixels: number | undefined;
    try {
      threads = parseThreads(flags.threads);
      if (flags.maxMegapixels !== undefined) {
        const mp = Number(flags.maxMegapixels);
        if (!(mp > 0) || !Number.isFinite(mp)) {
          throw new UsageError(`--max-megapixels expects a positive number, got '${flags.maxMegapixels}'`);
        }
        maxPixels = Math.floor(mp * 1024 * 1024);
      }
      overrides = flags.set.map(parseOverride);
      if (flags.cacheMb !== undefined) {
        const mb = Number(flags.cacheMb);
        if (!(mb >= 0)) throw new UsageError(`--cache-mb expects a number of MiB, got '${flags.cacheMb}'`);
        cacheBytes = mb * 1024 * 1024;
      }
      if (flags.out !== undefined) await checkOutDir(flags.out);
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
      ...(maxPixels !== undefined ? { maxPixels } : {}),
      ...providersFrom(flags.providers ?? process.env.DIFFEDIT_PROVIDERS),
    });
    let result: RunResult;
    if (loaded.ok) {
      let document: unknown;
      try {
        document = applyOverrides(loaded.value, overrides, (type, param) => {
          const params = runtime.catalog.get(type)?.params;
          return params ? ownValue(params, param)?.kind : undefined;
        });
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
        warnings: [],
      };
    }
    const name = basename(file);
    let report: RunReport;
    try {
      report = flags.out
        ? await writeRunOutput(resolve(flags.out), name, result, runtime.cache.stats(), io.outputFs)
        : buildReport(
            name,
            result,
            runtime.cache.stats(),
            result.artifacts.map((a) => a.name),
          );
    } catch (error) {
      // --out was checked before the run: this is the disk failing (full, removed) while writing. Nothing
      // partial is left under a real name (writeRunOutput writes to temporary names, then renames).
      printErr(`✗ cannot write the output into ${flags.out}: ${(error as Error).message}`);
      printErr('  no output file was written; earlier files in that folder are unchanged');
      return EXIT.failed;
    }
    if (flags.json) print(JSON.stringify(report, null, 2));
    if (result.warnings.length > 0) {
      printErr(`⚠ ${result.warnings.length} warning(s): the run finished, but check these:`);
      for (const w of result.warnings) {
        printErr(
          `  - node ${w.nodeId} (${w.nodeType})${w.field ? ` › ${w.field}` : ''}: ${w.message} [${w.code}]`,
        );
      }
    }
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
        if (e.code === INTERNAL_ERROR) {
          printErr('  This is a bug in DiffEdit Studio, not a problem with your workflow: please report it.');
          return EXIT.internal;
        }
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
    if (isEnvironmentError(error)) {
      // a model error, a toy pack that cannot be written, EACCES/ENOSPC…: the message says what to fix
      printErr(`✗ ${error.message}`);
      return EXIT.failed;
    }
    printErr(internalErrorMessage(error));
    return EXIT.internal;
  } finally {
    // Runtimes made here hold model sessions and worker threads that would keep the process alive.
    await Promise.all(created.map((runtime) => runtime.close()));
  }
  return exitCode;
}

/**
 * Checked before running, so that a bad --out fails at once instead of after the whole computation: not empty,
 * a folder (created if missing) that this process can write into.
 */
async function checkOutDir(out: string): Promise<void> {
  if (out.trim() === '') throw new UsageError("--out needs a folder name, got ''");
  const existing = await stat(out).catch(() => undefined);
  if (existing !== undefined && !existing.isDirectory()) {
    throw new UsageError(`cannot write the output into ${out}: it is not a folder (a file is in the way)`);
  }
  try {
    await mkdir(out, { recursive: true });
    await access(out, constants.W_OK);
  } catch (error) {
    throw new UsageError(`cannot write the output into ${out}: ${(error as Error).message}`);
  }
}

/**
 * An error that carries a stable `code` (ModelError, ToyPackError, Node's system errors such as EACCES): a
 * problem with the machine or the files, which the message explains. Anything else escaping is a bug.
 */
function isEnvironmentError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
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

/** `--threads N`: onnxruntime intra-op threads, a whole number from 1 to 1024 (undefined when not given). */
function parseThreads(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024)
    throw new UsageError(`--threads expects a whole number from 1 to 1024, got '${value}'`);
  return threads;
}

/** `--cache-variants N`: results the output cache keeps per node, a whole number ≥ 0 (0: no limit). */
function parseCacheVariants(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--cache-variants expects a whole number ≥ 0, got '${value}'`);
  return n;
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
