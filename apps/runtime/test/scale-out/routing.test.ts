import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import type { ValidWorkflow } from '@diffedit/core';
import { createRuntime } from '@diffedit/runtime';

import { inputFiles, modelNeeds, unservable, workflowKey } from '../../src/scale-out/routing.js';

const runtime = createRuntime({ log: () => {} });
const valid = (workflow: object): ValidWorkflow => {
  const result = runtime.validate(workflow);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.workflow;
};
const shipped = JSON.parse(
  readFileSync(new URL('../../../../workflows/diffedit-blip-caption.json', import.meta.url), 'utf8'),
) as { nodes: { id: string; params: Record<string, unknown> }[]; edges: unknown[] };
/** The shipped BLIP-caption DiffEdit workflow (nodes 'model' and 'blip' name models) with these values. */
const workflow = (models: { sd: string; blip: string }, image = 'assets/red-apple-on-blue.png'): object => {
  const w = structuredClone(shipped);
  w.nodes.find((n) => n.id === 'model')!.params.model = models.sd;
  w.nodes.find((n) => n.id === 'blip')!.params.model = models.blip;
  w.nodes.find((n) => n.id === 'image')!.params.image = image;
  return w;
};

describe('scale-out routing', () => {
  const needs = modelNeeds(valid(workflow({ sd: 'toy-sd', blip: 'toy-blip' })), runtime.catalog);

  it('reads the models a run needs from its model params, with node and field', () => {
    expect(needs).toEqual([
      { model: 'toy-sd', nodeId: 'model', field: 'model' },
      { model: 'toy-blip', nodeId: 'blip', field: 'model' },
    ]);
  });

  it('accepts a run one live worker can serve whole, and refuses it otherwise, naming node and field', () => {
    expect(unservable(needs, [{ models: ['toy-sd', 'toy-blip', 'toy-flan-t5'] }])).toEqual([]);
    expect(unservable(needs, [])).toMatchObject([{ nodeId: null, code: 'no_worker' }]);
    expect(unservable(needs, [{ models: ['toy-blip'] }])).toEqual([
      {
        nodeId: 'model',
        field: 'model',
        code: 'no_worker_for_model',
        message: "no live worker holds the model 'toy-sd' (the workers hold: toy-blip)",
      },
    ]);
    // Both models are held, but by different workers: no single worker can run it.
    const split = unservable(needs, [{ models: ['toy-sd'] }, { models: ['toy-blip'] }]);
    expect(split.map((i) => [i.nodeId, i.field, i.code])).toEqual([
      ['model', 'model', 'no_worker_for_model'],
      ['blip', 'model', 'no_worker_for_model'],
    ]);
    expect(split[0].message).toContain('together');
  });

  it('keys a workflow by its nodes and edges, not its params (an edit keeps its affinity)', () => {
    const a = workflowKey(valid(workflow({ sd: 'toy-sd', blip: 'toy-blip' })));
    expect(workflowKey(valid(workflow({ sd: 'other-sd', blip: 'toy-blip' })))).toBe(a);
    const reshaped = workflow({ sd: 'toy-sd', blip: 'toy-blip' }) as { edges: { to: { node: string } }[] };
    // The caption no longer feeds DDIMInvert's prompt: the source text does.
    const edge = reshaped.edges.find(
      (e) => e.to.node === 'invert' && 'input' in e.to && e.to.input === 'prompt',
    )!;
    Object.assign(edge, { from: { node: 'source', output: 'text' } });
    expect(workflowKey(valid(reshaped))).not.toBe(a);
  });

  it('lists the stored files a run reads (uploads and outputs, not shipped assets)', () => {
    const upload = `up_${'a'.repeat(32)}.png`;
    expect(inputFiles(valid(workflow({ sd: 'toy-sd', blip: 'toy-blip' }, upload)), runtime.catalog)).toEqual([
      upload,
    ]);
    expect(inputFiles(valid(workflow({ sd: 'toy-sd', blip: 'toy-blip' })), runtime.catalog)).toEqual([]);
  });
});
