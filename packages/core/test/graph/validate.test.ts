import { describe, expect, it } from 'vitest';

import {
  canonicalJson,
  createExecutor,
  topologicalOrder,
  validateWorkflow,
  VALIDATION_CODES,
  WORKFLOW_LIMITS,
} from '@diffedit/core';
import type { ValidationCode, ValidationIssue } from '@diffedit/core';

import { createTestCatalog, workflow } from './fixtures.js';

const { catalog } = createTestCatalog();
const issuesOf = (doc: unknown, targets?: string[]): ValidationIssue[] => {
  const result = validateWorkflow(doc, catalog, { targets });
  return result.ok ? [] : result.issues;
};
const seen = new Set<ValidationCode>();
const codes = (issues: ValidationIssue[]): ValidationCode[] => {
  issues.forEach((i) => seen.add(i.code));
  return issues.map((i) => i.code);
};

describe('validateWorkflow', () => {
  it('accepts a valid workflow and fills missing params with their defaults', () => {
    const result = validateWorkflow(
      workflow(
        [
          { id: 'n', type: 'Noise' },
          { id: 's', type: 'Sink' },
        ],
        ['n.value->s.value'],
      ),
      catalog,
    );
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.workflow.nodes[0].params).toEqual({ seed: 0, mode: 'a' });
      expect(result.workflow.nodes[1].params).toEqual({ flag: false });
    }
  });

  it('reports schema problems as invalid_document with the path', () => {
    const issues = issuesOf({ ...workflow([]), nodes: [{ id: 'a b', type: 'Const', parms: {} }] });
    expect(codes(issues)).toEqual(['invalid_document', 'invalid_document']);
    expect(issues.map((i) => i.field).sort()).toEqual(['nodes.0', 'nodes.0.id']);
    expect(codes(issuesOf({ format: 'other', version: 1 }))).toEqual(['invalid_document']);
    expect(codes(issuesOf('not json object'))).toEqual(['invalid_document']);
  });

  it('still checks the well-formed nodes when the shape of something else is wrong', () => {
    const doc = workflow(
      [
        { id: 'c', type: 'Const', params: { value: 5000 } },
        { id: 'u', type: 'Mystery' },
        { id: 's', type: 'Sink' },
      ],
      ['c.value->s.value'],
    );
    doc.edges![0].id = 'bad id';
    expect(issuesOf(doc).map((i) => [i.nodeId, i.code, i.field])).toEqual([
      [null, 'invalid_document', 'edges.0.id'],
      ['c', 'invalid_param', 'value'],
      ['u', 'unknown_node_type', 'type'],
    ]);
    expect(issuesOf(doc, ['s']).map((i) => i.code)).toEqual(['invalid_document']);
  });

  it('reports unknown types, unknown params and invalid params (type, range, enum) all at once', () => {
    const issues = issuesOf(
      workflow(
        [
          { id: 'u', type: 'Mystery' },
          { id: 'c', type: 'Const', params: { value: 5000, colour: 'red' } },
          { id: 'n', type: 'Noise', params: { seed: 1.5, mode: 'z' } },
          { id: 'd', type: 'Const', params: { value: 'ten' } },
          { id: 's', type: 'Sink', params: { flag: 'yes' } },
          { id: 'sl', type: 'Slow', params: { steps: 2.5 } },
        ],
        ['c.value->s.value'],
      ),
    );
    expect(issues.map((i) => [i.nodeId, i.code, i.field])).toEqual([
      ['u', 'unknown_node_type', 'type'],
      ['c', 'unknown_param', 'colour'],
      ['c', 'invalid_param', 'value'],
      ['n', 'invalid_param', 'seed'],
      ['n', 'invalid_param', 'mode'],
      ['d', 'invalid_param', 'value'],
      ['s', 'invalid_param', 'flag'],
      ['sl', 'invalid_param', 'steps'],
    ]);
    codes(issues);
    expect(issues[2].message).toContain('above the maximum 1000');
    expect(issues[4].message).toContain('expected one of "a", "b"');
  });

  it('rejects negative seeds', () => {
    expect(
      codes(
        issuesOf(
          workflow(
            [
              { id: 'n', type: 'Noise', params: { seed: -1 } },
              { id: 's', type: 'Sink' },
            ],
            ['n.value->s.value'],
          ),
        ),
      ),
    ).toEqual(['invalid_param']);
  });

  it('reports missing required inputs, type mismatches and inputs fed twice', () => {
    const issues = issuesOf(
      workflow(
        [
          { id: 'w', type: 'Words' },
          { id: 'x', type: 'Const' },
          { id: 'y', type: 'Const' },
          { id: 'add', type: 'Add' },
          { id: 'add2', type: 'Add' },
          { id: 's', type: 'Sink' },
        ],
        ['w.text->add.a', 'x.value->add2.a', 'y.value->add2.a', 'add2.sum->s.value'],
      ),
    );
    expect(issues.map((i) => [i.nodeId, i.code, i.field])).toEqual([
      ['add', 'type_mismatch', 'a'],
      ['add2', 'input_connected_twice', 'a'],
    ]);
    expect(issues[0].message).toBe("input 'a' accepts NUMBER, but w.text is TEXT");
    codes(issues);
    const missing = issuesOf(
      workflow(
        [
          { id: 'add', type: 'Add' },
          { id: 's', type: 'Sink' },
        ],
        ['add.sum->s.value'],
      ),
    );
    expect(missing.map((i) => [i.nodeId, i.code, i.field])).toEqual([['add', 'required_input_missing', 'a']]);
    codes(missing);
  });

  it('allows the compatibility table conversions (INT → NUMBER is not declared here, TEXT → TEXT_LIST is)', () => {
    expect(
      issuesOf(
        workflow(
          [
            { id: 'w', type: 'Words' },
            { id: 'j', type: 'Join' },
            { id: 's', type: 'Sink' },
          ],
          ['w.text->j.items', 'w.text->j.prefix', 'j.text->s.value'],
        ),
      ),
    ).toEqual([]);
  });

  it('reports edges to missing nodes or sockets as dangling', () => {
    const issues = issuesOf(
      workflow(
        [
          { id: 'x', type: 'Const' },
          { id: 's', type: 'Sink' },
        ],
        ['ghost.value->s.value', 'x.nope->s.value', 'x.value->s.nada', 'x.value->ghost2.value'],
      ),
    );
    expect(issues.map((i) => [i.code, i.edgeId])).toEqual([
      ['dangling_edge', 'e0'],
      ['dangling_edge', 'e1'],
      ['dangling_edge', 'e2'],
      ['dangling_edge', 'e3'],
    ]);
    codes(issues);
  });

  it('reports duplicate node and edge ids', () => {
    const doc = workflow(
      [
        { id: 'x', type: 'Const' },
        { id: 'x', type: 'Const' },
        { id: 's', type: 'Sink' },
      ],
      ['x.value->s.value'],
    );
    doc.edges = [...doc.edges!, { ...doc.edges![0] }];
    const issues = issuesOf(doc);
    expect(issues.filter((i) => i.code === 'duplicate_id').map((i) => i.nodeId ?? i.edgeId)).toEqual([
      'x',
      'e0',
    ]);
    codes(issues);
  });

  it('reports cycles naming their nodes', () => {
    const issues = issuesOf(
      workflow(
        [
          { id: 'x', type: 'Const' },
          { id: 'a', type: 'Add' },
          { id: 'b', type: 'Add' },
          { id: 'c', type: 'Add' },
          { id: 's', type: 'Sink' },
          { id: 'self', type: 'Add' },
        ],
        ['x.value->a.a', 'c.sum->a.b', 'a.sum->b.a', 'b.sum->c.a', 'c.sum->s.value', 'self.sum->self.a'],
      ),
    );
    const cycles = issues.filter((i) => i.code === 'cycle');
    expect(cycles.map((i) => i.nodes)).toEqual([['a', 'b', 'c'], ['self']]);
    expect(cycles[0].message).toBe('nodes a → b → c form a cycle');
    expect(codes(issues)).toEqual(['cycle', 'cycle']);
  });

  it('requires an output node unless targets are given, and checks targets exist', () => {
    const doc = workflow([{ id: 'x', type: 'Const' }]);
    expect(codes(issuesOf(doc))).toEqual(['no_output_node']);
    expect(issuesOf(doc, ['x'])).toEqual([]);
    expect(codes(issuesOf(doc, ['y']))).toEqual(['unknown_target']);
  });

  it('with targets, checks only what the targets need and returns that sub-graph', () => {
    const doc = workflow(
      [
        { id: 'x', type: 'Const' },
        { id: 'add', type: 'Add' },
        { id: 'broken', type: 'Add', params: { nope: 1 } },
        { id: 'ghost', type: 'Mystery' },
        { id: 's', type: 'Sink' },
      ],
      ['x.value->add.a', 'x.value->broken.b', 'broken.sum->s.value'],
    );
    expect(issuesOf(doc).map((i) => [i.nodeId, i.code])).toEqual([
      ['broken', 'unknown_param'],
      ['ghost', 'unknown_node_type'],
      ['broken', 'required_input_missing'],
    ]);
    const scoped = validateWorkflow(doc, catalog, { targets: ['add'] });
    expect(scoped.ok).toBe(true);
    if (scoped.ok) {
      expect(scoped.workflow.nodes.map((n) => n.id)).toEqual(['x', 'add']);
      expect(scoped.workflow.edges.map((e) => e.id)).toEqual(['e0']);
    }
    expect(issuesOf(doc, ['s']).map((i) => [i.nodeId, i.code])).toEqual([
      ['broken', 'unknown_param'],
      ['broken', 'required_input_missing'],
    ]);
  });

  describe('names that objects already have (constructor, __proto__, toString…)', () => {
    const names = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'];

    it.each(names)('an edge to input or from output %s is a dangling edge, not a crash', (name) => {
      const base = [
        { id: 'c', type: 'Const' },
        { id: 's', type: 'Sink' },
      ];
      const toInput = issuesOf(workflow(base, [`c.value->s.${name}`]));
      expect(toInput).toContainEqual(
        expect.objectContaining({ nodeId: 's', field: name, code: 'dangling_edge' }),
      );
      const fromOutput = issuesOf(workflow(base, [`c.${name}->s.value`]));
      expect(codes(fromOutput)).toEqual(['dangling_edge']);
      expect(fromOutput[0]).toMatchObject({ nodeId: 'c', field: name });
    });

    it.each(names)('a param named %s is an unknown param', (name) => {
      // JSON.parse makes '__proto__' an own key, as a workflow file does
      const doc = JSON.parse(
        JSON.stringify(workflow([{ id: 's', type: 'Sink' }])).replace(
          '"params":{}',
          `"params":{"${name}":1}`,
        ),
      );
      const issues = issuesOf(doc).filter((i) => i.code !== 'required_input_missing');
      expect(codes(issues)).toEqual(['unknown_param']);
      expect(issues[0]).toMatchObject({ nodeId: 's', field: name });
    });

    it.each(names)('%s is not a node id', (name) => {
      const issues = issuesOf(workflow([{ id: name, type: 'Sink' }]));
      expect(codes(issues)).toContain('invalid_document');
    });

    it('a type named like an Object.prototype member is unknown', () => {
      expect(codes(issuesOf(workflow([{ id: 's', type: 'constructor' }])))).toContain('unknown_node_type');
    });
  });

  describe('limits', () => {
    const nested = (depth: number): unknown => {
      let value: unknown = 'leaf';
      for (let i = 0; i < depth; i++) value = { a: value };
      return value;
    };

    it('refuses meta nested 3000 deep at parse time, naming the field; a run does not overflow', async () => {
      const doc = { ...workflow([{ id: 's', type: 'Sink' }]), meta: { deep: nested(3000) } };
      const issues = issuesOf(doc);
      expect(codes(issues)).toEqual(['too_deep']);
      expect(issues[0]).toMatchObject({ nodeId: null, field: expect.stringMatching(/^meta\.deep\.a/) });
      const result = await createExecutor({ catalog }).run(doc);
      expect(result.status).toBe('invalid');
      // what the bound protects: the canonical JSON of the document would have overflowed the stack
      expect(() => canonicalJson(nested(20_000))).toThrow(RangeError);
    });

    it('refuses deep groups and deep params, naming the node', () => {
      const groups = {
        ...workflow([{ id: 's', type: 'Sink' }]),
        groups: [{ id: 'g', title: 't', nodes: [], x: nested(100) }],
      };
      expect(codes(issuesOf(groups))).toEqual(['too_deep']);
      const params = issuesOf(workflow([{ id: 's', type: 'Sink', params: { flag: nested(100) } }]));
      expect(codes(params)).toEqual(['too_deep']);
      expect(params[0]).toMatchObject({ nodeId: 's', field: expect.stringMatching(/^flag\.a/) });
    });

    it('refuses a huge string and quotes at most a little of it', () => {
      const huge = 'x'.repeat(WORKFLOW_LIMITS.maxStringLength + 1);
      const issues = issuesOf({ ...workflow([{ id: 's', type: 'Sink' }]), description: huge });
      expect(codes(issues)).toEqual(['too_large']);
      expect(issues[0].field).toBe('description');
      // a long but allowed value in the wrong place is quoted, capped
      const long = 'y'.repeat(500_000);
      const wrong = issuesOf(workflow([{ id: 's', type: 'Sink', params: { flag: long } }])).filter(
        (i) => i.code !== 'required_input_missing',
      );
      expect(codes(wrong)).toEqual(['invalid_param']);
      expect(wrong[0].message.length).toBeLessThan(300);
      expect(wrong[0].message).toContain('(500000 characters)');
      const type = issuesOf(workflow([{ id: 's', type: long }]));
      expect(type.every((i) => i.message.length < 300)).toBe(true);
    });

    it('caps the number of nodes with a clear error', () => {
      const many = Array.from({ length: WORKFLOW_LIMITS.maxNodes + 1 }, (_, i) => ({
        id: `n${i}`,
        type: 'Const',
      }));
      const issues = issuesOf(workflow(many));
      expect(codes(issues)).toEqual(['too_many_nodes']);
      expect(issues[0]).toMatchObject({ nodeId: null, field: 'nodes' });
      expect(issues[0].message).toContain(String(WORKFLOW_LIMITS.maxNodes));
    });

    it('orders 10 000 unconnected nodes and a 10 000-node chain (Kahn with a heap, document order kept)', () => {
      const ids = Array.from({ length: 10_000 }, (_, i) => `n${i}`);
      expect(topologicalOrder(ids, [])).toEqual(ids);
      const reversedChain = ids.slice(1).map((id, i) => ({ from: id, to: ids[i] }));
      expect(topologicalOrder(ids, reversedChain)).toEqual([...ids].reverse());
      expect(topologicalOrder(['a', 'b', 'c'], [{ from: 'c', to: 'a' }])).toEqual(['b', 'c', 'a']);
    });
  });

  it('covered every validation code', () => {
    expect([...seen].sort()).toEqual([...VALIDATION_CODES].sort());
  });
});

describe('validateWorkflow migrates once', () => {
  it('runs each migration once, also when the document is malformed and node checks need it again', () => {
    const { catalog } = createTestCatalog();
    let calls = 0;
    const migrations = {
      1: (doc: Record<string, unknown>) => {
        calls++;
        return { ...doc, version: 2 };
      },
    };
    const malformed = { ...workflow([{ id: 'x', type: 'Const', params: { value: 1e9 } }]), edges: 'nope' };
    const result = validateWorkflow(malformed, catalog, { migrations, currentVersion: 2 });
    expect(result.ok).toBe(false);
    // the shape problems and the node's bad param are all reported, from one migration
    const codes = result.issues.map((i) => i.code);
    expect(codes).toContain('invalid_document');
    expect(codes).toContain('invalid_param');
    expect(calls).toBe(1);
  });
});
