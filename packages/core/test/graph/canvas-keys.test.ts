import { describe, expect, it } from 'vitest';

import { catalogFromJSON, computeCacheKeys, computeCanvasKeys, validateWorkflow } from '@diffedit/core';

import { createTestCatalog, workflow } from './fixtures.js';

// x ─ add ─ sink1          (a branch the user is still wiring:)
// y ─┘                     n ─ bad(Add, input b of wrong type) ─ sink2
const canvas = (extra: { id: string; type: string; params?: Record<string, unknown> }[] = []) =>
  workflow(
    [
      { id: 'x', type: 'Const', params: { value: 2 } },
      { id: 'y', type: 'Const' },
      { id: 'add', type: 'Add' },
      { id: 'sink1', type: 'Sink' },
      { id: 'w', type: 'Words' },
      { id: 'bad', type: 'Add' },
      { id: 'sink2', type: 'Sink' },
      ...extra,
    ],
    ['x.value->add.a', 'y.value->add.b', 'add.sum->sink1.value', 'w.text->bad.a', 'bad.sum->sink2.value'],
  );

describe('computeCanvasKeys', () => {
  it('gives the executor keys of a valid workflow for every node', () => {
    const { catalog } = createTestCatalog();
    const doc = workflow(
      [
        { id: 'x', type: 'Const' },
        { id: 's', type: 'Sink' },
      ],
      ['x.value->s.value'],
    );
    const valid = validateWorkflow(doc, catalog);
    if (!valid.ok) throw new Error('fixture should be valid');
    const result = computeCanvasKeys(catalog, doc);
    expect(result.issues).toEqual([]);
    expect(result.unkeyed).toEqual([]);
    expect(result.keys).toEqual(Object.fromEntries(computeCacheKeys(valid.workflow, catalog)));
  });

  it('keys every node that does not depend on a broken one, with the keys of the fixed canvas', () => {
    const { catalog } = createTestCatalog();
    const specs = catalogFromJSON(JSON.parse(JSON.stringify(catalog.toJSON())));
    const broken = computeCanvasKeys(specs, canvas([{ id: 'ghost', type: 'NotInstalled' }]));
    expect(broken.issues.map((i) => `${i.nodeId}:${i.code}`).sort()).toEqual([
      'bad:type_mismatch',
      'ghost:unknown_node_type',
    ]);
    expect(Object.keys(broken.keys).sort()).toEqual(['add', 'sink1', 'w', 'x', 'y']);
    expect(broken.unkeyed.sort()).toEqual(['bad', 'ghost', 'sink2']);

    // The keyed part is keyed exactly as in a valid canvas holding the same nodes.
    const fixed = computeCanvasKeys(
      specs,
      workflow(
        [
          { id: 'x', type: 'Const', params: { value: 2 } },
          { id: 'y', type: 'Const' },
          { id: 'add', type: 'Add' },
          { id: 'sink1', type: 'Sink' },
          { id: 'w', type: 'Words' },
        ],
        ['x.value->add.a', 'y.value->add.b', 'add.sum->sink1.value'],
      ),
    );
    for (const id of ['x', 'y', 'add', 'sink1', 'w']) expect(broken.keys[id]).toBe(fixed.keys[id]);
  });

  it('marks a node with an invalid param and its dependents unkeyed, and a cycle', () => {
    const { catalog } = createTestCatalog();
    const result = computeCanvasKeys(
      catalog,
      workflow(
        [
          { id: 'x', type: 'Const', params: { value: 1e9 } },
          { id: 's', type: 'Sink' },
          { id: 'a', type: 'Add' },
          { id: 'b', type: 'Add' },
          { id: 'ok', type: 'Const' },
        ],
        ['x.value->s.value', 'a.sum->b.a', 'b.sum->a.a'],
      ),
    );
    expect(Object.keys(result.keys)).toEqual(['ok']);
    expect(result.unkeyed.sort()).toEqual(['a', 'b', 's', 'x']);
  });

  it('returns no keys for a malformed document, naming its nodes unkeyed', () => {
    const { catalog } = createTestCatalog();
    const result = computeCanvasKeys(catalog, { ...canvas(), edges: 'nope' });
    expect(result.keys).toEqual({});
    expect(result.unkeyed).toContain('x');
    expect(result.issues.length).toBeGreaterThan(0);
  });
});
