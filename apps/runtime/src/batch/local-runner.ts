import { artifactFileNames, writeRunOutput } from '../report.js';
import type { OutputFs } from '../report.js';
import type { Runtime } from '../runtime.js';
import type { PreparedRow } from './prepare.js';
import { OUTPUT_NOT_WRITTEN } from './runner.js';
import type { RowOutcome, RowRunner } from './runner.js';

/**
 * Runs every row with one runtime in this process, one after the other: its cache keeps the results of earlier
 * rows, so a row re-runs only the nodes whose inputs or params differ (same image, new prompt: the image
 * loading and encoding are cached).
 */
export class LocalRunner implements RowRunner {
  readonly parallel = 1;

  constructor(
    private readonly runtime: Runtime,
    private readonly workflowName: string,
    private readonly outputFs?: OutputFs,
  ) {}

  async run(prepared: PreparedRow, rowDir: string, signal: AbortSignal): Promise<RowOutcome> {
    const result = await this.runtime.run(prepared.document, { signal });
    const outcome: RowOutcome = {
      status: result.status === 'done' ? 'succeeded' : result.status === 'cancelled' ? 'cancelled' : 'failed',
      ...(result.error ? { error: result.error } : {}),
      files: [],
      ran: result.nodes.filter((n) => n.status === 'ran').map((n) => n.nodeId),
      cached: result.nodes.filter((n) => n.status === 'cached').map((n) => n.nodeId),
      ms: result.ms,
      runId: result.runId,
      warnings: result.warnings.length,
    };
    if (result.status === 'invalid') {
      // prepareRows validated this document, so this is not expected; keep the first issue as the error
      const issue = result.issues?.[0];
      outcome.error = {
        nodeId: issue?.nodeId ?? null,
        ...(issue?.field ? { field: issue.field } : {}),
        code: issue?.code ?? 'invalid_document',
        message: issue?.message ?? 'the workflow is invalid',
      };
    }
    if (outcome.status === 'cancelled') return outcome;
    try {
      await writeRunOutput(rowDir, this.workflowName, result, this.runtime.cache.stats(), this.outputFs);
      outcome.files = [...artifactFileNames(result.artifacts), 'report.json'];
    } catch (error) {
      outcome.status = 'failed';
      outcome.error = {
        nodeId: null,
        code: OUTPUT_NOT_WRITTEN,
        message: `cannot write the output into ${rowDir}: ${(error as Error).message} (no file of this row was written)`,
      };
    }
    return outcome;
  }
}
