import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
  canonicalJson,
  computeCacheKeys,
  NodeCatalog,
  sha256Bytes,
  sha256Text,
  validateWorkflow,
} from '@diffedit/core';
import type { ValidWorkflow, WorkflowInput } from '@diffedit/core';

import { createTestCatalog, workflow } from './fixtures.js';

const { catalog } = createTestCatalog();
const valid = (doc: WorkflowInput): ValidWorkflow => {
  const result = validateWorkflow(doc, catalog);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.workflow;
};
const chain = (params: Record<string, unknown>, xValue = 1) =>
  valid(
    workflow(
      [
        { id: 'x', type: 'Const', params: { value: xValue } },
        { id: 'n', type: 'Noise', params },
        { id: 'add', type: 'Add' },
        { id: 's', type: 'Sink' },
      ],
      ['x.value->add.a', 'n.value->add.b', 'add.sum->s.value'],
    ),
  );

describe('sha256', () => {
  it('matches node:crypto on edge-case lengths', () => {
    for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff);
      expect(sha256Bytes(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    expect(sha256Text('héllo ✓')).toBe(createHash('sha256').update('héllo ✓', 'utf8').digest('hex'));
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and rejects non-JSON values', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: -0 } })).toBe(
      '{"a":{"c":0,"d":[1,{"e":3,"f":2}]},"b":1}',
    );
    expect(() => canonicalJson({ a: NaN })).toThrow('$.a is NaN');
    expect(() => canonicalJson({ a: new Float32Array(1) })).toThrow('not plain JSON');
  });

  it('names where a bad value sits, at any depth', () => {
    expect(() => canonicalJson({ a: [1, { b: [2, Infinity] }] })).toThrow(
      'canonicalJson: $.a[1].b[1] is Infinity, not a finite number',
    );
    expect(() => canonicalJson([{ x: { y: new Map() } }])).toThrow(
      'canonicalJson: $[0].x.y is not plain JSON data',
    );
    expect(() => canonicalJson({ z: 1, a: { 'k"': [() => 1] } })).toThrow(
      'canonicalJson: $.a.k"[0] has type function, which is not JSON',
    );
    expect(() => canonicalJson(Number.NaN)).toThrow('canonicalJson: $ is NaN');
    expect(canonicalJson({ u: undefined, n: null, s: 'é"\n', e: 1e21, f: -1.5e-7 })).toBe(
      '{"e":1e+21,"f":-1.5e-7,"n":null,"s":"é\\"\\n"}',
    );
  });
});

describe('computeCacheKeys', () => {
  it('is the hash of each node’s canonical material, whether its hash was remembered or not', () => {
    // a source node's key as the docs define it, first (maybe remembered from an earlier test) and after the
    // memo has started over, filled past its bound by other texts
    const doc = chain({ seed: 11 });
    const x = doc.nodes.find((n) => n.id === 'x')!;
    const def = catalog.get('Const')!;
    const material = { type: def.type, version: def.version, params: x.params, inputs: {}, files: {} };
    const expected = createHash('sha256').update(canonicalJson(material), 'utf8').digest('hex');
    const first = computeCacheKeys(doc, catalog);
    expect(first.get('x')).toBe(expected);
    expect(computeCacheKeys(doc, catalog)).toEqual(first);
    // ~4 texts of ~100 characters a workflow: past the memo's 2^20 characters
    for (let i = 0; i < 3000; i++) computeCacheKeys(chain({ seed: i }, i / 7), catalog);
    expect(computeCacheKeys(doc, catalog)).toEqual(first);
  });

  it('does not depend on the order params were written in', () => {
    const a = computeCacheKeys(chain({ seed: 3, mode: 'b' }), catalog);
    const b = computeCacheKeys(chain({ mode: 'b', seed: 3 }), catalog);
    expect(a).toEqual(b);
  });

  it('changes with the seed, and the change propagates downstream only', () => {
    const a = computeCacheKeys(chain({ seed: 3 }), catalog);
    const b = computeCacheKeys(chain({ seed: 4 }), catalog);
    expect(b.get('x')).toBe(a.get('x'));
    for (const id of ['n', 'add', 's']) expect(b.get(id)).not.toBe(a.get(id));
  });

  it('treats an explicit default the same as an omitted param', () => {
    expect(computeCacheKeys(chain({}), catalog)).toEqual(
      computeCacheKeys(chain({ seed: 0, mode: 'a' }), catalog),
    );
  });

  it('depends on which output feeds an input and on file fingerprints', () => {
    const doc = valid(
      workflow(
        [
          { id: 'r', type: 'ReadFile' },
          { id: 's', type: 'Sink' },
        ],
        ['r.text->s.value'],
      ),
    );
    const plain = computeCacheKeys(doc, catalog);
    const v1 = computeCacheKeys(doc, catalog, { r: { path: 'sha:1' } });
    const v2 = computeCacheKeys(doc, catalog, { r: { path: 'sha:2' } });
    expect(new Set([plain.get('r'), v1.get('r'), v2.get('r')]).size).toBe(3);
    expect(v1.get('s')).not.toBe(v2.get('s'));
  });

  it("changes when a node definition's version is bumped, and for everything downstream", () => {
    const doc = chain({ seed: 3 });
    const bumped = new NodeCatalog(
      catalog.list().map((def) => (def.type === 'Noise' ? { ...def, version: def.version + 1 } : def)),
    );
    const before = computeCacheKeys(doc, catalog);
    const after = computeCacheKeys(doc, bumped);
    expect(after.get('x')).toBe(before.get('x'));
    for (const id of ['n', 'add', 's']) expect(after.get(id)).not.toBe(before.get(id));
  });

  it('is a 64-hex-digit key per node', () => {
    const keys = computeCacheKeys(chain({}), catalog);
    expect([...keys.keys()].sort()).toEqual(['add', 'n', 's', 'x']);
    for (const key of keys.values()) expect(key).toMatch(/^[0-9a-f]{64}$/);
  });
});
