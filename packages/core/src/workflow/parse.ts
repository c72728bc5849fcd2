import type { z } from 'zod';

import type { ValidationIssue } from './issues.js';
import { checkDocumentLimits } from './limits.js';
import { migrateWorkflow } from './migrations.js';
import type { MigrationOptions } from './migrations.js';
import { WorkflowSchema } from './schema.js';
import type { Workflow } from './schema.js';

export type ParseWorkflowResult =
  | { ok: true; workflow: Workflow }
  | {
      ok: false;
      issues: ValidationIssue[];
      /** The migrated document when only its shape is wrong (absent when migration itself failed). */
      migrated?: Record<string, unknown>;
    };

/**
 * Migrates and schema-checks a workflow document. Only the document's shape is checked here; node types,
 * params and edges are checked against a catalog by validateWorkflow.
 */
export function parseWorkflow(raw: unknown, options: MigrationOptions = {}): ParseWorkflowResult {
  const limits = checkDocumentLimits(raw);
  if (limits.length > 0) return { ok: false, issues: limits };
  const migrated = migrateWorkflow(raw, options);
  if (!migrated.ok) return migrated;
  const parsed = WorkflowSchema.safeParse(migrated.document);
  if (parsed.success) return { ok: true, workflow: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => toIssue(issue, migrated.document)),
    migrated: migrated.document,
  };
}

function toIssue(issue: z.core.$ZodIssue, document: Record<string, unknown>): ValidationIssue {
  const path = issue.path.map(String);
  let nodeId: string | null = null;
  // Point at the node when the problem is inside one, so the editor can highlight it.
  if (path[0] === 'nodes' && path.length > 1) {
    const node = (document.nodes as unknown[] | undefined)?.[Number(path[1])];
    const id = typeof node === 'object' && node !== null ? (node as { id?: unknown }).id : undefined;
    if (typeof id === 'string') nodeId = id;
  }
  const field = path.length > 0 ? path.join('.') : '$';
  return { nodeId, field, code: 'invalid_document', message: `${field}: ${issue.message}` };
}
