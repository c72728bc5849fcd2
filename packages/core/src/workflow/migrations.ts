import { quoteValue } from './issues.js';
import type { ValidationIssue } from './issues.js';
import { WORKFLOW_FORMAT, WORKFLOW_VERSION } from './schema.js';

/** Upgrades a document of version N (the key) to version N + 1. */
export type WorkflowMigration = (document: Record<string, unknown>) => Record<string, unknown>;

/**
 * The migration chain. Empty while version 1 is the only one; when version 2 appears, add
 * `1: (doc) => ({ ...doc, version: 2, … })` here and a golden v1 file stays loadable.
 */
export const WORKFLOW_MIGRATIONS: Readonly<Record<number, WorkflowMigration>> = {};

export interface MigrationOptions {
  migrations?: Readonly<Record<number, WorkflowMigration>>;
  currentVersion?: number;
}

export type MigrationResult =
  | { ok: true; document: Record<string, unknown>; fromVersion: number }
  | { ok: false; issues: ValidationIssue[] };

/** Brings any supported version of the document up to the current one, before schema validation. */
export function migrateWorkflow(raw: unknown, options: MigrationOptions = {}): MigrationResult {
  const migrations = options.migrations ?? WORKFLOW_MIGRATIONS;
  const current = options.currentVersion ?? WORKFLOW_VERSION;
  const fail = (field: string, message: string): MigrationResult => ({
    ok: false,
    issues: [{ nodeId: null, field, code: 'invalid_document', message }],
  });

  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail('$', 'a workflow must be a JSON object');
  }
  let document = raw as Record<string, unknown>;
  if (document.format !== WORKFLOW_FORMAT) {
    return fail('format', `expected "format": "${WORKFLOW_FORMAT}", got ${quoteValue(document.format)}`);
  }
  const fromVersion = document.version;
  if (typeof fromVersion !== 'number' || !Number.isInteger(fromVersion) || fromVersion < 1) {
    return fail('version', `"version" must be a positive integer, got ${quoteValue(fromVersion)}`);
  }
  if (fromVersion > current) {
    return fail('version', `version ${fromVersion} is newer than this runtime understands (${current})`);
  }
  for (let version = fromVersion; version < current; version++) {
    const migrate = Object.hasOwn(migrations, version) ? migrations[version] : undefined;
    if (!migrate) return fail('version', `no migration from version ${version} to ${version + 1}`);
    document = migrate(document);
    if (document.version !== version + 1) {
      return fail('version', `migration from version ${version} did not produce version ${version + 1}`);
    }
  }
  return { ok: true, document, fromVersion };
}
