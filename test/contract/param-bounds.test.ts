import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  convertSocketValue,
  NodeInputError,
  numericRange,
  resolveSocketConnection,
  acceptedTypes,
  Tensor,
} from '@diffedit/core';
import type { NodeDefinition, ParamValue, RunResult } from '@diffedit/core';

import { recordingContext } from '../nodes/node-context.js';
import { createToyRuntime, withParams } from '../diffedit/harness.js';
import type { ToyRuntime, WorkflowDoc } from '../diffedit/harness.js';
import { everyNodeWorkflow } from './every-node.js';

/**
 * `validate` must refuse exactly what `run` refuses: every bounded param of every node is tried at each bound
 * and just past it. At an inclusive bound both accept (the node runs without complaining about the param); at
 * an exclusive bound both refuse (run() called directly throws for that field); just past a bound validation
 * refuses, naming node and field.
 */
interface BoundCase {
  nodeId: string;
  nodeType: string;
  param: string;
  value: number;
  /** what the spec says: accepted by validation */
  accepted: boolean;
  label: string;
}

function boundCases(doc: WorkflowDoc, definitionOf: (type: string) => NodeDefinition): BoundCase[] {
  const cases: BoundCase[] = [];
  for (const node of doc.nodes) {
    const def = definitionOf(node.type);
    for (const [param, spec] of Object.entries(def.params)) {
      if (spec.kind !== 'number' && spec.kind !== 'int' && spec.kind !== 'seed') continue;
      const { min, max, exclusiveMin, exclusiveMax } = numericRange(spec);
      // Just past: the next integer for integer kinds, a relative hair for real numbers.
      const hair = (b: number): number => (spec.kind === 'number' ? Math.max(1, Math.abs(b)) * 1e-6 : 1);
      const add = (value: number, accepted: boolean, label: string): void =>
        void cases.push({ nodeId: node.id, nodeType: node.type, param, value, accepted, label });
      if (min !== undefined) {
        add(min, !exclusiveMin, `at min ${min}${exclusiveMin ? ' (exclusive)' : ''}`);
        add(min - hair(min), false, 'just below min');
      }
      if (max !== undefined) {
        add(max, !exclusiveMax, `at max ${max}${exclusiveMax ? ' (exclusive)' : ''}`);
        add(max + hair(max), false, 'just above max');
      }
    }
  }
  return cases;
}

/**
 * Params that only make sense together: at these values a companion param is set so that the combination is
 * one the node accepts, and the run checks the bound itself.
 */
const COMPANIONS: Record<string, (value: number) => Record<string, ParamValue>> = {
  // one step at strength s runs int(1·s) steps: only strength 1 leaves one to run
  'GenerateMask.num_inference_steps': (steps): Record<string, ParamValue> =>
    steps === 1 ? { mask_encode_strength: 1 } : {},
  'DDIMInvert.num_inference_steps': (steps): Record<string, ParamValue> =>
    steps === 1 ? { inpaint_strength: 1 } : {},
};

/**
 * Nodes whose accepted range also depends on their inputs: they run directly on inputs made to fit the params
 * (ImageGrid needs exactly rows × cols images; one batch of that many 4×4 images is connected to `a`).
 */
const FITTING_INPUTS: Record<string, (params: Record<string, ParamValue>) => Record<string, unknown>> = {
  ImageGrid: (p) => ({ a: Tensor.full([Number(p.rows) * Number(p.cols), 3, 4, 4], 0.5) }),
};

/**
 * Limits on the input data rather than on the param itself: at an accepted value the node may still refuse the
 * particular input (a 512² image is over a 0.001 MP pixel limit), and then it must refuse that input, naming
 * the file param: node.param → the field the refusal names.
 */
const DATA_LIMITS: Record<string, string> = {
  'LoadImage.max_megapixels': 'image',
  'LoadMask.max_megapixels': 'mask',
};

let toy: ToyRuntime;
let baseline: RunResult;
const doc = everyNodeWorkflow();

beforeAll(async () => {
  toy = await createToyRuntime();
  baseline = await toy.runtime.run(doc, { targets: doc.nodes.map((n) => n.id) });
  if (baseline.status !== 'done') throw new Error(`baseline failed: ${JSON.stringify(baseline.error)}`);
});
afterAll(async () => toy?.close());

describe('param bounds: validate refuses exactly what run refuses', () => {
  const definitionOf = (type: string): NodeDefinition => {
    const def = toy.runtime.catalog.get(type);
    if (!def) throw new Error(`no node type ${type}`);
    return def;
  };

  it('the fixture holds every built-in node type', () => {
    const used = new Set(doc.nodes.map((n) => n.type));
    expect(
      toy.runtime.catalog
        .list()
        .map((d) => d.type)
        .filter((t) => !used.has(t)),
    ).toEqual([]);
  });

  it('walks every bounded param of every node at and just past its bounds', async () => {
    const cases = boundCases(doc, definitionOf);
    expect(cases.length).toBeGreaterThan(60);
    const mismatches: string[] = [];
    for (const c of cases) {
      const companion = c.accepted ? (COMPANIONS[`${c.nodeType}.${c.param}`]?.(c.value) ?? {}) : {};
      const edited = withParams(doc, { [c.nodeId]: { ...companion, [c.param]: c.value } });
      const where = `${c.nodeType}.${c.param} = ${c.value} (${c.label})`;
      const validation = toy.runtime.validate(edited);
      if (validation.ok !== c.accepted) {
        mismatches.push(`${where}: validate ${validation.ok ? 'accepts' : 'refuses'}`);
        continue;
      }
      if (!validation.ok) {
        const named = validation.issues.some(
          (i) => i.nodeId === c.nodeId && i.field === c.param && i.code === 'invalid_param',
        );
        if (!named) mismatches.push(`${where}: refused without naming the field`);
      }
      const fitting = FITTING_INPUTS[c.nodeType];
      if (c.accepted && fitting) {
        const error = await runDirectly(c, definitionOf(c.nodeType), fitting).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (error !== undefined) mismatches.push(`${where}: validate accepts, run fails: ${String(error)}`);
      } else if (c.accepted) {
        // Through the executor: only this node runs (its inputs are cached from the baseline).
        const result = await toy.runtime.run(edited, { targets: [c.nodeId] });
        const dataField = DATA_LIMITS[`${c.nodeType}.${c.param}`];
        const refusedTheData =
          dataField !== undefined &&
          result.error?.nodeId === c.nodeId &&
          result.error.field === dataField &&
          result.error.code === 'invalid_input';
        if (result.status !== 'done' && !refusedTheData) {
          mismatches.push(`${where}: validate accepts, run fails: ${JSON.stringify(result.error)}`);
        }
      } else if (c.label.startsWith('at ')) {
        // An exclusive bound: the node's own run() must refuse it too (that is why the bound is exclusive).
        const error = await runDirectly(c, definitionOf(c.nodeType)).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (!(error instanceof NodeInputError && error.field === c.param)) {
          mismatches.push(`${where}: validate refuses an exclusive bound that run accepts`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });
});

/** Calls the node's run() with the baseline's inputs and the case's param value, bypassing validation. */
async function runDirectly(
  c: BoundCase,
  def: NodeDefinition,
  fittingInputs?: (params: Record<string, ParamValue>) => Record<string, unknown>,
): Promise<unknown> {
  const node = doc.nodes.find((n) => n.id === c.nodeId)!;
  const inputs: Record<string, unknown> = {};
  for (const edge of fittingInputs ? [] : doc.edges.filter((e) => e.to.node === c.nodeId)) {
    const fromType = doc.nodes.find((n) => n.id === edge.from.node)!.type;
    const outputType = toy.runtime.catalog.get(fromType)!.outputs[edge.from.output].type;
    const input = def.inputs[edge.to.input];
    const as = resolveSocketConnection(outputType, input.type) ?? acceptedTypes(input)[0];
    inputs[edge.to.input] = convertSocketValue(
      outputType,
      as,
      baseline.outputs[edge.from.node][edge.from.output],
    );
  }
  const params: Record<string, ParamValue> = {};
  for (const [name, spec] of Object.entries(def.params)) {
    params[name] = (node.params[name] as ParamValue | undefined) ?? spec.default;
  }
  params[c.param] = c.value;
  Object.assign(inputs, fittingInputs?.(params));
  const { ctx } = recordingContext();
  return def.run(
    { ...ctx, services: toy.runtime.services, nodeId: c.nodeId, nodeType: c.nodeType },
    inputs,
    params,
  );
}
