import { join } from 'node:path';

import { stringify } from 'csv-stringify/sync';

import type { RunError } from '@diffedit/core';

import { writeFilesAtomic } from '../report.js';
import type { OutputFs } from '../report.js';

/** `skipped`: the batch was cancelled before the row started. */
export type RowStatus = 'succeeded' | 'failed' | 'cancelled' | 'skipped';

/** What happened to one row: summary.json's `rows` entries (and summary.csv's lines). */
export interface RowSummary {
  row: number;
  /** The CSV line the row starts on. */
  line?: number;
  /** Its output folder under --out. */
  name: string;
  status: RowStatus;
  /** The values the row set, by column (`NODE.PARAM`), as written in the CSV (or the image's path). */
  params: Record<string, string>;
  /** Why it failed: the node, its type, the field, a stable code and the message. */
  error?: RunError;
  /** Files written for it, relative to --out (`<name>/<file>`), report last. */
  outputs: string[];
  /** How many planned nodes ran and how many were served from the cache (earlier rows' results). */
  nodes: { ran: number; cached: number };
  /** The node ids of each, in execution order. */
  ran: string[];
  cached: string[];
  /** Run time as the executor measured it (0 for rows that never ran). */
  ms: number;
  /** The run's id (the server's run id when run through one). */
  runId?: string;
  warnings: number;
}

export interface BatchSummary {
  workflow: string;
  /** The CSV file, or `--images DIR`. */
  source: string;
  /** The server's URL when run through one. */
  server?: string;
  /** `running` while the batch goes on (summary.json is rewritten after each row). */
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  counts: Record<RowStatus, number> & { rows: number };
  ms: number;
  rows: RowSummary[];
}

export function countRows(rows: readonly RowSummary[]): BatchSummary['counts'] {
  const counts = { rows: rows.length, succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };
  for (const row of rows) counts[row.status]++;
  return counts;
}

const CSV_COLUMNS = [
  'row',
  'name',
  'status',
  'nodes_ran',
  'nodes_cached',
  'ms',
  'outputs',
  'error_node',
  'error_field',
  'error_code',
  'error_message',
] as const;

/** summary.csv: one line per row; outputs separated by spaces (file names have none). */
export function summaryCsv(summary: BatchSummary): string {
  return stringify(
    summary.rows.map((r) => ({
      row: r.row,
      name: r.name,
      status: r.status,
      nodes_ran: r.nodes.ran,
      nodes_cached: r.nodes.cached,
      ms: Math.round(r.ms),
      outputs: r.outputs.join(' '),
      error_node: r.error?.nodeId ?? '',
      error_field: r.error?.field ?? '',
      error_code: r.error?.code ?? '',
      error_message: r.error?.message ?? '',
    })),
    { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'unix' },
  );
}

/** Writes summary.json and summary.csv into `outDir`, each whole or not at all. */
export async function writeSummary(outDir: string, summary: BatchSummary, fs?: OutputFs): Promise<void> {
  await writeFilesAtomic(
    [
      { path: join(outDir, 'summary.json'), bytes: `${JSON.stringify(summary, null, 2)}\n` },
      { path: join(outDir, 'summary.csv'), bytes: summaryCsv(summary) },
    ],
    fs,
  );
}
