import { describe, expect, it } from 'vitest';

import {
  API_ROUTES,
  fileKindOf,
  isFileId,
  isWorkflowName,
  openApiDocument,
  RunSubmitSchema,
} from '@diffedit/core';

describe('file ids and names', () => {
  it('accepts the three kinds and nothing that could name a path', () => {
    const hex = '0123456789abcdef0123456789abcdef';
    expect(fileKindOf(`up_${hex}.png`)).toBe('upload');
    expect(fileKindOf(`out_${hex}.bin`)).toBe('output');
    expect(fileKindOf(`pv_${hex}.webp`)).toBe('preview');
    for (const bad of [
      '../etc/passwd',
      `up_${hex}.png/..`,
      `up_${hex}.PNG`,
      `up_${hex}.png\0`,
      `/up_${hex}.png`,
      `xx_${hex}.png`,
      `up_${hex.slice(1)}.png`,
      '',
    ])
      expect(isFileId(bad), bad).toBe(false);
  });

  it('keeps workflow names free of dots, slashes and NUL', () => {
    expect(isWorkflowName('diffedit-prompts')).toBe(true);
    for (const bad of ['..', '.hidden', 'a/b', 'a\\b', 'a\0', 'a.json', '', 'x'.repeat(101)])
      expect(isWorkflowName(bad), bad).toBe(false);
  });
});

describe('request schemas', () => {
  it('rejects unknown fields and bad targets in a run submission', () => {
    expect(RunSubmitSchema.safeParse({ workflow: {}, targets: ['save'] }).success).toBe(true);
    expect(RunSubmitSchema.safeParse({ workflow: {}, extra: 1 }).success).toBe(false);
    expect(RunSubmitSchema.safeParse({ workflow: {}, targets: [] }).success).toBe(false);
    expect(RunSubmitSchema.safeParse({ workflow: {}, clientId: 'a/b' }).success).toBe(false);
  });
});

describe('openApiDocument', () => {
  const doc = openApiDocument({ version: '1.2.3' }) as {
    openapi: string;
    info: { version: string };
    paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, Record<string, unknown>> };
  };

  it('has one operation per route, with OpenAPI paths', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('1.2.3');
    const operations = Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops).map((op) => op.operationId),
    );
    expect(operations.sort()).toEqual(
      Object.values(API_ROUTES)
        .map((r) => r.operationId)
        .sort(),
    );
    expect(doc.paths['/api/runs/{id}'].delete.operationId).toBe('cancelRun');
  });

  it('references named schemas, and every reference resolves', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map(
      (m) => m[1],
    );
    expect(refs).toContain('RunDetail');
    for (const ref of refs) expect(doc.components.schemas[ref], ref).toBeDefined();
    expect(doc.components.schemas.RunSubmit.required).toEqual(['workflow']);
    expect(JSON.stringify(doc)).not.toContain('"$id"');
  });
});
