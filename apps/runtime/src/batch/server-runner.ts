import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { fileKindOf } from '@diffedit/core';
import type { RunDetail, RunError } from '@diffedit/core';

import { artifactFileNames, writeFilesAtomic } from '../report.js';
import type { OutputFs } from '../report.js';
import type { PreparedRow, WorkflowDocument } from './prepare.js';
import { OUTPUT_NOT_WRITTEN } from './runner.js';
import type { RowOutcome, RowRunner } from './runner.js';
import { ServerRequestError } from './server-client.js';
import type { ServerClient } from './server-client.js';

const FINISHED: ReadonlySet<RunDetail['status']> = new Set(['succeeded', 'failed', 'cancelled']);
/** How long a cancelled run may take to stop before the batch stops waiting for it. */
const CANCEL_WAIT_MS = 10_000;
/** How long the server may be unreachable (restarting) while a run is polled before that row is failed. */
const UNREACHABLE_MS = 60_000;

/**
 * Runs rows through a server's public API: uploads the local files a row reads (each once per batch), submits
 * the run, polls it until it ends, and downloads its files. Several rows are in flight at once, so a server
 * with several workers (serve --queue) runs them side by side.
 */
export class ServerRunner implements RowRunner {
  private readonly uploads = new Map<string, Promise<string>>();
  private readonly clientId = `batch-${globalThis.crypto.randomUUID().slice(0, 8)}`;
  private lastSubmission: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: ServerClient,
    readonly parallel: number,
    private readonly outputFs?: OutputFs,
  ) {}

  async run(prepared: PreparedRow, rowDir: string, signal: AbortSignal): Promise<RowOutcome> {
    // Rows are submitted in row order (a FIFO server then runs them in that order), whichever uploads first.
    const turn = this.lastSubmission;
    let submitted!: () => void;
    this.lastSubmission = new Promise((resolve) => (submitted = resolve));
    try {
      return await this.runInTurn(prepared, rowDir, signal, turn, submitted);
    } finally {
      submitted();
    }
  }

  private async runInTurn(
    prepared: PreparedRow,
    rowDir: string,
    signal: AbortSignal,
    turn: Promise<void>,
    submitted: () => void,
  ): Promise<RowOutcome> {
    const empty = { files: [], ran: [], cached: [], ms: 0, warnings: 0 };
    const document = structuredClone(prepared.document);
    for (const file of prepared.files) {
      let fileId: string;
      try {
        fileId = await this.uploaded(file.path);
      } catch (error) {
        const node = document.nodes.find((n) => n.id === file.nodeId);
        return { status: 'failed', error: refusal(error, file.nodeId, node?.type, file.param), ...empty };
      }
      setParam(document, file.nodeId, file.param, fileId);
    }
    if (signal.aborted) return { status: 'cancelled', ...empty };

    await turn;
    if (signal.aborted) return { status: 'cancelled', ...empty };
    let runId: string;
    try {
      runId = await this.submit(document, signal);
      submitted();
    } catch (error) {
      if (signal.aborted) return { status: 'cancelled', ...empty };
      const issue = error instanceof ServerRequestError ? error.issues[0] : undefined;
      const node = document.nodes.find((n) => n.id === issue?.nodeId);
      return {
        status: 'failed',
        error: refusal(error, issue?.nodeId ?? null, node?.type, issue?.field),
        ...empty,
      };
    }

    const run = await this.finished(runId, signal);
    const outcome: RowOutcome = {
      status: run.status === 'succeeded' ? 'succeeded' : run.status === 'failed' ? 'failed' : 'cancelled',
      ...(run.error ? { error: run.error } : {}),
      files: [],
      ran: run.nodes.filter((n) => n.state === 'ran').map((n) => n.nodeId),
      cached: run.nodes.filter((n) => n.state === 'cached').map((n) => n.nodeId),
      ms: run.ms ?? 0,
      runId,
      warnings: run.warnings.length,
    };
    if (outcome.status === 'cancelled') return outcome;
    try {
      // the run's output files only (out_…), not previews or other kinds a server may list with them
      const outputs = run.files.filter((f) => fileKindOf(f.fileId) === 'output');
      const names = artifactFileNames(outputs);
      const files: { path: string; bytes: Uint8Array | string }[] = await Promise.all(
        outputs.map(async (f, i) => ({
          path: join(rowDir, names[i]),
          bytes: await this.client.file(f.fileId),
        })),
      );
      // run.json last: the run as the server reports it (nodes, cache keys, warnings, file ids)
      files.push({ path: join(rowDir, 'run.json'), bytes: `${JSON.stringify(run, null, 2)}\n` });
      await mkdir(rowDir, { recursive: true });
      await writeFilesAtomic(files, this.outputFs);
      outcome.files = [...names, 'run.json'];
    } catch (error) {
      outcome.status = 'failed';
      outcome.error = {
        nodeId: null,
        code: OUTPUT_NOT_WRITTEN,
        message: `cannot fetch or write the output of run ${runId} into ${rowDir}: ${(error as Error).message} (no file of this row was written)`,
      };
    }
    return outcome;
  }

  /** An upload of `path`, started on first use and shared by every row that reads the same file. */
  private uploaded(path: string): Promise<string> {
    let upload = this.uploads.get(path);
    if (upload === undefined) {
      upload = this.client.upload(path);
      this.uploads.set(path, upload);
    }
    return upload;
  }

  /** Submits the run; a full queue (429) is waited out rather than failing the row. */
  private async submit(document: WorkflowDocument, signal: AbortSignal): Promise<string> {
    for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
      try {
        return (await this.client.submit(document, this.clientId)).runId;
      } catch (error) {
        if (!(error instanceof ServerRequestError && error.status === 429) || signal.aborted) throw error;
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** Polls the run until it ends; on cancel, asks the server to cancel it and waits (a while) for that. */
  private async finished(runId: string, signal: AbortSignal): Promise<RunDetail> {
    let cancelledAt: number | undefined;
    let unreachableSince: number | undefined;
    for (let delay = 50; ; delay = Math.min(delay * 1.5, 1000)) {
      if (signal.aborted && cancelledAt === undefined) {
        cancelledAt = Date.now();
        await this.client.cancel(runId).catch(() => undefined);
      }
      let run: RunDetail | undefined;
      try {
        run = await this.client.run(runId);
        unreachableSince = undefined;
      } catch (error) {
        // a server restarting or a network blip: keep asking for a while (less when cancelling), then give up
        const transient =
          !(error instanceof ServerRequestError) || error.status === undefined || error.status >= 500;
        unreachableSince ??= Date.now();
        const patience = cancelledAt === undefined ? UNREACHABLE_MS : CANCEL_WAIT_MS;
        if (transient && Date.now() - unreachableSince < patience) {
          await sleep(delay);
          continue;
        }
        return lostRun(runId, error, signal.aborted);
      }
      if (FINISHED.has(run.status)) return run;
      if (cancelledAt !== undefined && Date.now() - cancelledAt > CANCEL_WAIT_MS) {
        return { ...run, status: 'cancelled' };
      }
      await sleep(signal.aborted ? Math.min(delay, 200) : delay);
    }
  }
}

function setParam(document: WorkflowDocument, nodeId: string, param: string, value: string): void {
  const node = document.nodes.find((n) => n.id === nodeId);
  if (node) node.params = { ...node.params, [param]: value };
}

/** The server's refusal of an upload or a run, as a row's error. */
function refusal(
  error: unknown,
  nodeId: string | null,
  nodeType: string | undefined,
  field?: string,
): RunError {
  const issue = error instanceof ServerRequestError ? error.issues[0] : undefined;
  return {
    nodeId,
    ...(nodeType ? { nodeType } : {}),
    ...(field ? { field } : {}),
    code: issue?.code ?? 'server_error',
    message: (error as Error).message,
  };
}

/** A run the server stopped answering about (404 after a reset, a 4xx): failed, with the reason. */
function lostRun(runId: string, error: unknown, cancelled: boolean): RunDetail {
  return {
    runId,
    status: cancelled ? 'cancelled' : 'failed',
    name: '',
    createdAt: Date.now(),
    files: [],
    nodes: [],
    cached: [],
    warnings: [],
    workflow: null,
    error: { nodeId: null, code: 'server_error', message: (error as Error).message },
  };
}
