import { describe, expect, it } from 'vitest';

import {
  catalogFromJSON,
  CatalogJsonError,
  checkParamValue,
  computeCacheKeys,
  defineNode,
  NodeCatalog,
  validateWorkflow,
} from '@diffedit/core';

import { createTestCatalog, workflow } from './fixtures.js';

const roundTrip = (json: unknown): unknown => JSON.parse(JSON.stringify(json));

describe('catalogFromJSON', () => {
  it('rebuilds a catalog whose JSON equals the original, for every param kind', () => {
    const { catalog } = createTestCatalog();
    const json = roundTrip(catalog.toJSON());
    expect(catalogFromJSON(json).toJSON()).toEqual(json);
  });

  it('keeps readsWorkflow and exclusive bounds, so keys and validation are the same as the source catalog', () => {
    const Embed = defineNode({
      type: 'Embed',
      version: 3,
      title: 'Embed',
      category: 'test',
      description: 'embeds the workflow',
      output: true,
      readsWorkflow: true,
      inputs: { value: { type: ['NUMBER', 'TEXT'], required: false, label: 'Value' } },
      params: {
        ratio: {
          kind: 'number',
          default: 1,
          min: 0,
          exclusiveMin: true,
          max: 2,
          exclusiveMax: true,
          step: 0.1,
        },
        seed: { kind: 'seed', default: 0, description: 'noise' },
      },
      outputs: {},
      async run() {
        return {};
      },
    });
    const source = new NodeCatalog([Embed]);
    const json = roundTrip(source.toJSON()) as {
      params: Record<string, unknown>[];
      readsWorkflow: boolean;
    }[];
    expect(json[0].readsWorkflow).toBe(true);
    expect(json[0].params[0]).toMatchObject({ min: 0, exclusiveMin: true, max: 2, exclusiveMax: true });
    expect(json[0].params[1]).toMatchObject({ kind: 'seed', min: 0, max: Number.MAX_SAFE_INTEGER });
    const rebuilt = catalogFromJSON(json);
    expect(rebuilt.toJSON()).toEqual(json);

    for (const ratio of [0, 2, 1e-9, 1.999, 1]) {
      const doc = workflow([{ id: 'e', type: 'Embed', params: { ratio } }]);
      const a = validateWorkflow(doc, source);
      const b = validateWorkflow(doc, rebuilt);
      expect(b).toEqual(a);
      expect(a.ok).toBe(ratio > 0 && ratio < 2);
      if (a.ok && b.ok) {
        expect(computeCacheKeys(b.workflow, rebuilt, {}, b.document)).toEqual(
          computeCacheKeys(a.workflow, source, {}, a.document),
        );
      }
    }
  });

  it('refuses malformed JSON with a message naming the field', () => {
    const { catalog } = createTestCatalog();
    const json = roundTrip(catalog.toJSON()) as Record<string, unknown>[];
    expect(() => catalogFromJSON({})).toThrow(CatalogJsonError);
    const noFlag = json.map(({ readsWorkflow: _r, ...rest }) => rest);
    expect(() => catalogFromJSON(noFlag)).toThrow(/readsWorkflow/);
    const unknownField = [{ ...json[0], colour: 'red' }];
    expect(() => catalogFromJSON(unknownField)).toThrow(/colour/);
    const badDefault = [
      { ...json[0], params: [{ name: 'value', kind: 'number', default: 5, min: 0, max: 1 }] },
    ];
    expect(() => catalogFromJSON(badDefault)).toThrow(/default of param 'value'/);
    expect(() => catalogFromJSON([json[0], json[0]])).toThrow(/already registered/);
  });
});

describe('checkParamValue bounds', () => {
  it('accepts inclusive bounds and refuses exclusive ones, and everything past either', () => {
    const inclusive = { kind: 'number', default: 0.5, min: 0, max: 1 } as const;
    const exclusive = { ...inclusive, exclusiveMin: true, exclusiveMax: true } as const;
    expect(checkParamValue(inclusive, 0)).toBeUndefined();
    expect(checkParamValue(inclusive, 1)).toBeUndefined();
    expect(checkParamValue(inclusive, -1e-9)).toMatch(/below the minimum 0/);
    expect(checkParamValue(inclusive, 1 + 1e-9)).toMatch(/above the maximum 1/);
    expect(checkParamValue(exclusive, 0)).toMatch(/must be greater than 0/);
    expect(checkParamValue(exclusive, 1)).toMatch(/must be less than 1/);
    expect(checkParamValue(exclusive, 1e-9)).toBeUndefined();
    expect(checkParamValue(exclusive, -1)).toMatch(/greater than 0/);
  });
});
