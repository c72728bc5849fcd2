import { parseWorkflow } from '@diffedit/core';
import type { ValidationIssue, Workflow } from '@diffedit/core';

import { isPng, readPngText } from './png-text.js';

/** The PNG text keyword SaveImage stores the workflow under. */
export const PNG_WORKFLOW_KEY = 'workflow';

export type ImportResult = { ok: true; workflow: Workflow } | { ok: false; message: string };

function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .slice(0, 3)
    .map((i) => (i.nodeId ? `${i.nodeId}: ${i.message}` : i.message))
    .join('; ');
}

/** Parses a workflow document from JSON text. Unknown node types still load (the canvas marks them). */
export function importJsonText(text: string): ImportResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `not JSON: ${(error as Error).message}` };
  }
  const parsed = parseWorkflow(raw);
  if (!parsed.ok) return { ok: false, message: `not a DiffEdit workflow: ${describeIssues(parsed.issues)}` };
  return { ok: true, workflow: parsed.workflow };
}

/** A dropped or picked file: a workflow .json, or a PNG written by SaveImage (its embedded workflow). */
export function importFileBytes(name: string, bytes: Uint8Array): ImportResult {
  if (isPng(bytes)) {
    let texts: Record<string, string>;
    try {
      texts = readPngText(bytes);
    } catch (error) {
      return { ok: false, message: `${name}: ${(error as Error).message}` };
    }
    const text = texts[PNG_WORKFLOW_KEY];
    if (text === undefined)
      return { ok: false, message: `${name} carries no workflow (not saved by SaveImage)` };
    return importJsonText(text);
  }
  const result = importJsonText(new TextDecoder().decode(bytes));
  return result.ok ? result : { ok: false, message: `${name}: ${result.message}` };
}

/** The text of an exported workflow file. */
export function exportJson(workflow: Workflow): string {
  return `${JSON.stringify(workflow, null, 2)}\n`;
}
