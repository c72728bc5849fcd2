import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { migrateWorkflow, parseWorkflow, workflowJsonSchema, WORKFLOW_FORMAT } from '@diffedit/core';

const root = fileURLToPath(new URL('../../../../workflows/', import.meta.url));
const minimal = { format: WORKFLOW_FORMAT, version: 1, name: 'n', nodes: [{ id: 'a', type: 'Text' }] };

describe('workflow format', () => {
  it('parses a minimal document, filling defaults', () => {
    const result = parseWorkflow(minimal);
    expect(result).toEqual({
      ok: true,
      workflow: { ...minimal, description: '', edges: [], nodes: [{ id: 'a', type: 'Text', params: {} }] },
    });
  });

  it('rejects unknown fields (typos) and wrong shapes with paths', () => {
    const result = parseWorkflow({ ...minimal, nodes: [{ id: 'a', type: 'Text', parms: {} }], edge: [] });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues.map((i) => [i.nodeId, i.field, i.code])).toEqual([
        ['a', 'nodes.0', 'invalid_document'],
        [null, '$', 'invalid_document'],
      ]);
      expect(result.issues[0].message).toContain('parms');
    }
  });

  it('rejects a document from a newer version instead of misreading it', () => {
    const result = migrateWorkflow({ ...minimal, version: 2 });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues[0].message).toBe('version 2 is newer than this runtime understands (1)');
  });

  it('runs the migration chain through the hook, one version at a time', () => {
    const migrations = {
      1: (doc: Record<string, unknown>) => ({ ...doc, version: 2, renamed: true }),
      2: (doc: Record<string, unknown>) => ({ ...doc, version: 3 }),
    };
    const result = migrateWorkflow(minimal, { migrations, currentVersion: 3 });
    expect(result).toEqual({ ok: true, fromVersion: 1, document: { ...minimal, version: 3, renamed: true } });
    const broken = migrateWorkflow(minimal, { migrations: { 1: (doc) => doc }, currentVersion: 2 });
    expect(broken.ok).toBe(false);
    const missing = migrateWorkflow(minimal, { migrations: {}, currentVersion: 2 });
    expect(missing.ok ? '' : missing.issues[0].message).toBe('no migration from version 1 to 2');
  });

  it('keeps the committed JSON Schema equal to the generated one', () => {
    const committed: unknown = JSON.parse(readFileSync(`${root}workflow.schema.json`, 'utf8'));
    // Regenerate with: node apps/runtime/dist/cli.js schema --write workflows/workflow.schema.json
    expect(committed).toEqual(workflowJsonSchema());
  });

  it('parses every golden workflow', () => {
    const files = readdirSync(`${root}golden`).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      const result = parseWorkflow(JSON.parse(readFileSync(`${root}golden/${file}`, 'utf8')));
      expect(result.ok ? [] : result.issues, file).toEqual([]);
    }
  });
});
