import { validateWorkflow } from '@diffedit/core';
import { describe, expect, it } from 'vitest';

import { canvasToWorkflow, freshNodeId, workflowToCanvas } from '../src/util/convert.js';
import { copyFragment, pasteFragment } from '../src/util/clipboard.js';
import { serverCatalog, shippedWorkflow } from './fixtures.js';

const catalog = serverCatalog();

describe('workflow <-> canvas', () => {
  it('round-trips the shipped DiffEdit workflow with defaults filled in, as validation fills them', () => {
    const workflow = shippedWorkflow();
    const back = canvasToWorkflow(workflowToCanvas(workflow, catalog));
    const validated = validateWorkflow(workflow, catalog.specs);
    expect(validated.ok).toBe(true);
    if (!validated.ok) return;
    expect(back.nodes.map((n) => n.params)).toEqual(validated.document.nodes.map((n) => n.params));
    expect(back.edges).toEqual(workflow.edges);
    expect(back.nodes.map((n) => [n.id, n.type, n.title, n.position])).toEqual(
      workflow.nodes.map((n) => [n.id, n.type, n.title, n.position]),
    );
    expect(back.name).toBe(workflow.name);
  });

  it('keeps nodes of unknown types and their params as they are', () => {
    const workflow = {
      ...shippedWorkflow(),
      nodes: [{ id: 'x', type: 'FancyUpscale', params: { factor: 4 } }],
      edges: [],
    };
    const doc = workflowToCanvas(workflow, catalog);
    expect(doc.nodes[0].data).toEqual({ type: 'FancyUpscale', params: { factor: 4 } });
    expect(canvasToWorkflow(doc).nodes[0]).toMatchObject({
      id: 'x',
      type: 'FancyUpscale',
      params: { factor: 4 },
    });
  });

  it('drops groups members that were deleted, and empty groups', () => {
    const doc = workflowToCanvas(shippedWorkflow(), catalog);
    doc.groups = [
      { id: 'g1', title: 'Prompts', nodes: ['source', 'target', 'gone'] },
      { id: 'g2', title: 'Empty', nodes: ['gone'] },
    ];
    expect(canvasToWorkflow(doc).groups).toEqual([
      { id: 'g1', title: 'Prompts', nodes: ['source', 'target'] },
    ]);
  });

  it('makes readable fresh ids', () => {
    expect(freshNodeId('MaskedDenoise', new Set())).toBe('masked_denoise');
    expect(freshNodeId('DDIMInvert', new Set())).toBe('ddim_invert');
    expect(freshNodeId('LoadBLIP', new Set())).toBe('load_blip');
    expect(freshNodeId('LoadImage', new Set(['load_image', 'load_image_2']))).toBe('load_image_3');
  });
});

describe('copy / paste', () => {
  it('pastes copies with fresh ids and only the edges between the copied nodes, rewired', () => {
    const doc = workflowToCanvas(shippedWorkflow(), catalog);
    const fragment = copyFragment(doc.nodes, doc.edges, new Set(['mask', 'mask_image', 'target']));
    expect(fragment.edges.map((e) => e.id).sort()).toEqual([
      'mask-mask-mask_image-mask',
      'target-text-mask-target',
    ]);
    const pasted = pasteFragment(fragment, new Set(doc.nodes.map((n) => n.id)), { x: 10, y: 20 });
    // In canvas order: target, mask, mask_image.
    expect(pasted.nodes.map((n) => n.id)).toEqual(['text', 'generate_mask', 'mask_to_image']);
    expect(pasted.nodes[1].position).toEqual({ x: 710, y: 20 });
    expect(pasted.nodes[1].data.params).toEqual(doc.nodes.find((n) => n.id === 'mask')!.data.params);
    expect(
      pasted.edges.map((e) => `${e.source}.${e.sourceHandle}->${e.target}.${e.targetHandle}`).sort(),
    ).toEqual(['generate_mask.mask->mask_to_image.mask', 'text.text->generate_mask.target']);
  });
});
