import { access, constants, mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { catalogFromJSON, INTERNAL_ERROR, ownValue } from '@diffedit/core';
import type { SpecCatalog } from '@diffedit/core';

import { parseOverride, UsageError } from '../overrides.js';
import type { ParamOverride } from '../overrides.js';
import type { OutputFs } from '../report.js';
import type { Runtime, RuntimeOptions } from '../runtime.js';
import { LocalRunner } from './local-runner.js';
import { prepareRows } from './prepare.js';
import type { PreparedRow } from './prepare.js';
import { BatchInputError, imageFolderRows, parseRowsCsv } from './rows.js';
import type { BatchRow } from './rows.js';
import type { RowOutcome, RowRunner } from './runner.js';
import { ServerClient, ServerRequestError } from './server-client.js';
import { ServerRunner } from './server-runner.js';
import { countRows, writeSummary } from './summary.js';
import type { BatchSummary, RowSummary } from './summary.js';

/** The options of `diffedit batch` as commander hands them over. */
export interface BatchFlags {
  setFrom?: string;
  images?: string;
  imageNode?: string;
  set: string[];
  out: string;
  server?: string;
  token?: string;
  parallel?: string;
  inputs?: string;
  models?: string;
  cacheMb?: string;
  providers?: string;
  threads?: string;
  json?: boolean;
}

/** What the command needs from the CLI around it. */
export interface BatchContext {
  print(text: string): void;
  printErr(text: string): void;
  signal?: AbortSignal;
  /** The CLI's runtime (one per process, closed by the CLI; a test may inject one). */
  runtimeFor(options: RuntimeOptions): Runtime;
  outputFs?: OutputFs;
}

/** Exit codes, as the `run` command uses them. */
const EXIT = { ok: 0, failed: 1, invalid: 2, internal: 70, cancelled: 130 } as const;

/** Least time between two rewrites of summary.json while the batch runs (it is always written at the end). */
const SAVE_INTERVAL_MS = 1000;

/** Most rows in flight at once through a server (its queue takes 20 per client). */
const MAX_PARALLEL = 16;

/**
 * `diffedit batch`: validates every row first (exit 2, nothing written, on any problem), then runs them one
 * by one locally or through a server, writing OUT/<row>/ and OUT/summary.json + summary.csv as rows finish.
 */
export async function batchCommand(file: string, flags: BatchFlags, ctx: BatchContext): Promise<number> {
  const signal = ctx.signal ?? new AbortController().signal;
  let setup: Setup;
  try {
    setup = await setUp(file, flags, ctx);
  } catch (error) {
    if (error instanceof BatchInputError) {
      ctx.printErr(`✗ the batch is invalid (${plural(error.problems.length, 'problem')}); nothing was run:`);
      for (const problem of error.problems) ctx.printErr(`  - ${problem}`);
      return EXIT.invalid;
    }
    if (error instanceof UsageError || error instanceof ServerRequestError) {
      ctx.printErr(`✗ ${error.message}`);
      return EXIT.invalid;
    }
    throw error;
  }

  const { prepared, runner, out } = setup;
  const started = performance.now();
  const summary: BatchSummary = {
    workflow: basename(file),
    source: setup.source,
    ...(flags.server ? { server: flags.server } : {}),
    status: 'running',
    counts: countRows([]),
    ms: 0,
    rows: prepared.map((p) => rowSummary(p, undefined)),
  };
  summary.counts = countRows(summary.rows);
  let saving = Promise.resolve();
  let savedAt = -Infinity;
  let summaryError: Error | undefined;
  const save = (): Promise<void> => {
    savedAt = performance.now();
    summary.counts = countRows(summary.rows);
    summary.ms = Math.round(performance.now() - started);
    const snapshot = structuredClone(summary);
    saving = saving
      .then(() => writeSummary(out, snapshot, ctx.outputFs))
      .catch((error: Error) => void (summaryError = error));
    return saving;
  };

  ctx.printErr(
    `▶ ${plural(prepared.length, 'row')} of ${basename(file)} from ${setup.source}` +
      (flags.server ? ` through ${flags.server}` : ' in this process') +
      ` → ${flags.out}`,
  );
  let next = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (next < prepared.length && !signal.aborted) {
      const i = next++;
      const row = prepared[i];
      let outcome: RowOutcome;
      try {
        outcome = await runner.run(row, join(out, row.row.name), signal);
      } catch (error) {
        // runners report failed rows as outcomes: whatever escapes is a bug, kept to this row
        const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        outcome = {
          status: 'failed',
          error: {
            nodeId: null,
            code: INTERNAL_ERROR,
            message: `internal error (a bug, please report it): ${detail}`,
          },
          files: [],
          ran: [],
          cached: [],
          ms: 0,
          warnings: 0,
        };
      }
      summary.rows[i] = rowSummary(row, outcome);
      done++;
      ctx.printErr(rowLine(summary.rows[i], done, prepared.length, flags.out));
      // kept current as rows finish, but rewritten at most once a second: a long batch's summary is large
      if (performance.now() - savedAt >= SAVE_INTERVAL_MS) await save();
    }
  };
  await Promise.all(Array.from({ length: Math.min(runner.parallel, prepared.length) }, lane));

  const counts = countRows(summary.rows);
  // Cancelled: Ctrl-C stopped rows. A row cancelled by someone else (DELETE on the server) counts as not done.
  const stopped = signal.aborted && counts.cancelled + counts.skipped > 0;
  const unfinished = counts.failed + counts.cancelled;
  summary.status = stopped ? 'cancelled' : unfinished > 0 ? 'failed' : 'succeeded';
  await save();
  if (flags.json) ctx.print(JSON.stringify(summary, null, 2));
  const seconds = `${(summary.ms / 1000).toFixed(1)} s`;
  const where = join(flags.out, 'summary.json');
  if (summaryError) {
    ctx.printErr(`✗ cannot write ${where}: ${summaryError.message}`);
    return EXIT.failed;
  }
  if (summary.status === 'cancelled') {
    ctx.printErr(
      `✗ cancelled: ${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.cancelled} cancelled, ${counts.skipped} not started (${seconds}); ${where}`,
    );
    return EXIT.cancelled;
  }
  const internal = summary.rows.some((r) => r.error?.code === INTERNAL_ERROR);
  if (unfinished > 0) {
    const cancelled = counts.cancelled > 0 ? ` (${counts.cancelled} cancelled on the server)` : '';
    ctx.printErr(
      `✗ ${unfinished} of ${plural(counts.rows, 'row')} failed${cancelled} (${seconds}); see ${where}`,
    );
    if (internal) {
      ctx.printErr(
        '  An internal error is a bug in DiffEdit Studio, not a problem with your rows: please report it.',
      );
      return EXIT.internal;
    }
    return EXIT.failed;
  }
  ctx.printErr(`✓ ${plural(counts.rows, 'row')} succeeded in ${seconds}; ${where}`);
  return EXIT.ok;
}

interface Setup {
  prepared: PreparedRow[];
  runner: RowRunner;
  /** --out, absolute. */
  out: string;
  source: string;
}

/** Everything before the first run: flags, workflow, rows, catalog, validation, the output folder. */
async function setUp(file: string, flags: BatchFlags, ctx: BatchContext): Promise<Setup> {
  if ((flags.setFrom === undefined) === (flags.images === undefined)) {
    throw new UsageError('batch needs exactly one of --set-from rows.csv and --images DIR');
  }
  if (flags.imageNode !== undefined && flags.images === undefined) {
    throw new UsageError('--image-node goes with --images');
  }
  const token = flags.token ?? (process.env.DIFFEDIT_TOKEN || undefined);
  if (flags.token !== undefined && flags.server === undefined)
    throw new UsageError('--token goes with --server');
  const parallel = flags.parallel === undefined ? 4 : Number(flags.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL) {
    throw new UsageError(
      `--parallel expects a whole number from 1 to ${MAX_PARALLEL}, got '${flags.parallel}'`,
    );
  }
  if (flags.parallel !== undefined && flags.server === undefined) {
    throw new UsageError('--parallel goes with --server (in this process rows run one after the other)');
  }
  const localOnly = (['models', 'cacheMb', 'providers', 'threads'] as const).filter(
    (k) => flags[k] !== undefined,
  );
  if (flags.server !== undefined && localOnly.length > 0) {
    throw new UsageError(
      `--${localOnly[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for batches run in this process; the server has its own`,
    );
  }
  if (flags.out.trim() === '') throw new UsageError("--out needs a folder name, got ''");
  const sets: ParamOverride[] = flags.set.map(parseOverride);
  const workflow = await readWorkflow(file);

  let catalog: SpecCatalog;
  let runner: RowRunner;
  if (flags.server !== undefined) {
    let url: URL;
    try {
      url = new URL(flags.server);
    } catch {
      throw new UsageError(`--server expects a URL (http://host:port), got '${flags.server}'`);
    }
    const client = new ServerClient(url.href, token);
    catalog = await serverCatalog(client);
    runner = new ServerRunner(client, parallel, ctx.outputFs);
  } else {
    const runtime = ctx.runtimeFor({
      inputsDir: flags.inputs ?? dirname(resolve(file)),
      ...(flags.models ? { modelsDir: flags.models } : {}),
      ...cacheOption(flags.cacheMb),
      ...threadsOption(flags.threads),
      ...providersOption(flags.providers ?? process.env.DIFFEDIT_PROVIDERS),
    });
    catalog = runtime.catalog;
    runner = new LocalRunner(runtime, basename(file), ctx.outputFs);
  }

  let columns: string[];
  let rows: BatchRow[];
  let source: string;
  let problems: string[] = [];
  if (flags.setFrom !== undefined) {
    source = flags.setFrom;
    let text: string;
    try {
      text = await readFile(flags.setFrom, 'utf8');
    } catch (error) {
      throw new BatchInputError([`cannot read ${flags.setFrom}: ${(error as Error).message}`]);
    }
    ({ columns, rows, problems } = parseRowsCsv(text, source));
  } else {
    source = `--images ${flags.images}`;
    const target = imageTarget(workflow, catalog, flags.imageNode);
    rows = await imageFolderRows(flags.images!, target.nodeId, target.param);
    columns = [`${target.nodeId}.${target.param}`];
  }

  const prepared = await prepareRows({
    workflow,
    workflowName: basename(file),
    catalog,
    sets,
    columns,
    rows,
    problems,
    source,
    inputsDir: resolve(flags.inputs ?? dirname(resolve(file))),
    remote: flags.server !== undefined,
  });
  const out = resolve(flags.out);
  await checkOutDir(flags.out, out);
  return { prepared, runner, out, source };
}

async function readWorkflow(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new BatchInputError([`cannot read ${file}: ${(error as Error).message}`]);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (error) {
    throw new BatchInputError([`${file} is not valid JSON: ${(error as Error).message}`]);
  }
}

/** The server's node catalog, so rows are validated against what the server runs, before any is submitted. */
async function serverCatalog(client: ServerClient): Promise<SpecCatalog> {
  try {
    return catalogFromJSON(await client.nodes());
  } catch (error) {
    if (error instanceof ServerRequestError && error.status === 401) {
      throw new UsageError(
        `${client.base} needs a token: pass --token T (or set $DIFFEDIT_TOKEN) [${error.issues[0]?.code ?? 'unauthorized'}]`,
      );
    }
    if (error instanceof ServerRequestError) throw error;
    throw new UsageError(`${client.base}/api/nodes is not a node catalog: ${(error as Error).message}`);
  }
}

/**
 * The node and file param an `--images` row sets: `--image-node ID`, else the workflow's only LoadImage.
 * LoadImage sets `image`; another node type sets its first file param (LoadMask: `mask`).
 */
export function imageTarget(
  workflow: unknown,
  catalog: SpecCatalog,
  chosen: string | undefined,
): { nodeId: string; param: string } {
  const nodes = ((workflow as { nodes?: unknown }).nodes ?? []) as { id?: unknown; type?: unknown }[];
  const typed = (Array.isArray(nodes) ? nodes : []).filter(
    (n): n is { id: string; type: string } => typeof n?.id === 'string' && typeof n.type === 'string',
  );
  const fileParam = (type: string): string | undefined => {
    const params = catalog.get(type)?.params ?? {};
    if (type === 'LoadImage' && ownValue(params, 'image')?.kind === 'file') return 'image';
    return Object.entries(params).find(([, spec]) => spec.kind === 'file')?.[0];
  };
  if (chosen !== undefined) {
    const node = typed.find((n) => n.id === chosen);
    if (!node) {
      throw new BatchInputError([
        `--image-node ${chosen}: the workflow has no such node (its nodes: ${typed.map((n) => n.id).join(', ')})`,
      ]);
    }
    const param = fileParam(node.type);
    if (!param) {
      throw new BatchInputError([
        `--image-node ${chosen}: node ${chosen} (${node.type}) reads no image file`,
      ]);
    }
    return { nodeId: chosen, param };
  }
  const loaders = typed.filter((n) => n.type === 'LoadImage');
  if (loaders.length === 1) return { nodeId: loaders[0].id, param: 'image' };
  if (loaders.length === 0) {
    throw new BatchInputError([
      '--images: the workflow has no LoadImage node; name the node that reads the image with --image-node ID',
    ]);
  }
  throw new BatchInputError([
    `--images: the workflow has ${loaders.length} LoadImage nodes (${loaders.map((n) => n.id).join(', ')}); choose one with --image-node ID`,
  ]);
}

/** A folder (created if missing) this process can write into; checked after validation, before any run. */
async function checkOutDir(given: string, out: string): Promise<void> {
  const existing = await stat(out).catch(() => undefined);
  if (existing !== undefined && !existing.isDirectory()) {
    throw new UsageError(`cannot write the output into ${given}: it is not a folder (a file is in the way)`);
  }
  try {
    await mkdir(out, { recursive: true });
    await access(out, constants.W_OK);
  } catch (error) {
    throw new UsageError(`cannot write the output into ${given}: ${(error as Error).message}`);
  }
}

function rowSummary(prepared: PreparedRow, outcome: RowOutcome | undefined): RowSummary {
  const { row } = prepared;
  return {
    row: row.index,
    ...(row.line !== undefined ? { line: row.line } : {}),
    name: row.name,
    status: outcome?.status ?? 'skipped',
    params: Object.fromEntries(
      row.overrides.map((o) => [`${o.nodeId}.${o.param}`, o.text ?? JSON.stringify(o.value)]),
    ),
    ...(outcome?.error ? { error: outcome.error } : {}),
    outputs: (outcome?.files ?? []).map((f) => `${row.name}/${f}`),
    nodes: { ran: outcome?.ran.length ?? 0, cached: outcome?.cached.length ?? 0 },
    ran: outcome?.ran ?? [],
    cached: outcome?.cached ?? [],
    ms: Math.round((outcome?.ms ?? 0) * 1000) / 1000,
    ...(outcome?.runId ? { runId: outcome.runId } : {}),
    warnings: outcome?.warnings ?? 0,
  };
}

/** `✓ [2/3] apple-pear: 3 ran, 8 cached, 412 ms → out/apple-pear/` or the failure with node and field. */
function rowLine(row: RowSummary, done: number, total: number, out: string): string {
  const head = `[${done}/${total}] ${row.name}`;
  if (row.status === 'succeeded') {
    return `✓ ${head}: ${row.nodes.ran} ran, ${row.nodes.cached} cached, ${row.ms.toFixed(0)} ms → ${join(out, row.name)}/`;
  }
  if (row.status !== 'failed') return `✗ ${head}: ${row.status}`;
  const e = row.error;
  const where = e?.nodeId
    ? `node ${e.nodeId}${e.nodeType ? ` (${e.nodeType})` : ''}${e.field ? ` › ${e.field}` : ''}`
    : 'run';
  return `✗ ${head}: ${where} failed: ${e?.message ?? 'unknown error'} [${e?.code ?? '?'}]`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function cacheOption(text: string | undefined): { cacheBytes?: number } {
  if (text === undefined) return {};
  const mb = Number(text);
  if (!(mb >= 0)) throw new UsageError(`--cache-mb expects a number of MiB, got '${text}'`);
  return { cacheBytes: mb * 1024 * 1024 };
}

function threadsOption(text: string | undefined): { threads?: number } {
  if (text === undefined) return {};
  const threads = Number(text);
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024)
    throw new UsageError(`--threads expects a whole number from 1 to 1024, got '${text}'`);
  return { threads };
}

function providersOption(list: string | undefined): { providers?: string[] } {
  const providers = (list ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return providers.length > 0 ? { providers } : {};
}
