import type { RunError } from '@diffedit/core';

import type { PreparedRow } from './prepare.js';

/** How one row's run ended, and what it left in its folder. */
export interface RowOutcome {
  status: 'succeeded' | 'failed' | 'cancelled';
  error?: RunError;
  /** File names written into the row's folder. */
  files: string[];
  ran: string[];
  cached: string[];
  ms: number;
  runId?: string;
  warnings: number;
}

/** Executes rows: in this process (LocalRunner) or through a server's HTTP API (ServerRunner). */
export interface RowRunner {
  /** How many rows may be in flight at once. */
  readonly parallel: number;
  /**
   * Runs one row and writes its files into `rowDir` (write-then-rename: nothing partial). Never throws for a
   * failed row; a cancelled row (signal) writes nothing.
   */
  run(prepared: PreparedRow, rowDir: string, signal: AbortSignal): Promise<RowOutcome>;
}

/** The code of a row whose files could not be written (a full disk): the run itself worked. */
export const OUTPUT_NOT_WRITTEN = 'output_not_written';
