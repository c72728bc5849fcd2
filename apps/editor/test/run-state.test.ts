import type { FileRef, RunDetail } from '@diffedit/core';
import { describe, expect, it } from 'vitest';

import { workflowToCanvas, canvasToWorkflow } from '../src/util/convert.js';
import { diffEditSources } from '../src/util/results.js';
import { applyEvent, collectPreviews, overallProgress, upToDateNodes } from '../src/util/run-state.js';
import type { EditorEvent, NodeRunState, RunView } from '../src/util/run-state.js';
import { serverCatalog, shippedWorkflow } from './fixtures.js';

const runId = '00000000-0000-4000-8000-000000000001';
const base = { runId, time: 0 };
const file = (name: string): FileRef => ({
  name,
  mime: 'image/png',
  size: 10,
  fileId: `out_${'a'.repeat(32)}.png`,
  url: `/api/files/${name}`,
});

describe('run view', () => {
  it('folds the events of a run into per-node states and overall progress', () => {
    const events: EditorEvent[] = [
      {
        ...base,
        type: 'run:start',
        planned: ['image', 'invert', 'save'],
        cached: ['image'],
        targets: ['save'],
        keys: { image: 'k1', invert: 'k2', save: 'k3' },
      },
      { ...base, type: 'node:cached', nodeId: 'image', nodeType: 'LoadImage', cacheKey: 'k1', artifacts: [] },
      { ...base, type: 'node:start', nodeId: 'invert', nodeType: 'DDIMInvert' },
      {
        ...base,
        type: 'node:progress',
        nodeId: 'invert',
        nodeType: 'DDIMInvert',
        step: 10,
        total: 40,
        preview: { mime: 'image/png', url: 'data:image/png;base64,AA' },
      },
    ];
    let view: RunView = { runId, status: 'queued', nodes: {}, planned: [] };
    for (const e of events) view = applyEvent(view, e);
    expect(view.status).toBe('running');
    expect(view.nodes.image).toMatchObject({ phase: 'cached', cacheKey: 'k1' });
    expect(view.nodes.invert).toMatchObject({
      phase: 'running',
      step: 10,
      total: 40,
      preview: 'data:image/png;base64,AA',
    });
    expect(view.nodes.save.phase).toBe('queued');
    expect(overallProgress(view)).toBeCloseTo((1 + 0.25) / 3);

    view = applyEvent(view, {
      ...base,
      type: 'node:done',
      nodeId: 'invert',
      nodeType: 'DDIMInvert',
      ms: 1,
      cacheKey: 'k2',
      outputs: {},
      artifacts: [],
    });
    view = applyEvent(view, {
      ...base,
      type: 'node:warning',
      nodeId: 'save',
      nodeType: 'SaveImage',
      code: 'same_prompts',
      message: 'source and target are the same',
    });
    view = applyEvent(view, {
      ...base,
      type: 'node:done',
      nodeId: 'save',
      nodeType: 'SaveImage',
      ms: 1,
      cacheKey: 'k3',
      outputs: {},
      artifacts: [file('edit.png')],
    });
    view = applyEvent(view, { ...base, type: 'run:done', ms: 3 });
    expect(view.status).toBe('succeeded');
    expect(view.nodes.save).toMatchObject({
      phase: 'done',
      images: ['/api/files/edit.png'],
      warnings: [{ code: 'same_prompts', message: 'source and target are the same' }],
    });
    expect(overallProgress(view)).toBe(1);
  });

  it('ignores other runs, marks a failed node and what was left when cancelled', () => {
    let view: RunView = { runId, status: 'running', nodes: {}, planned: ['a', 'b'] };
    expect(applyEvent(view, { ...base, runId: 'other', type: 'run:done', ms: 1 })).toBe(view);
    view = applyEvent(view, { ...base, type: 'node:start', nodeId: 'a', nodeType: 'Text' });
    view = applyEvent(view, {
      ...base,
      type: 'node:error',
      nodeId: 'a',
      nodeType: 'Text',
      ms: 1,
      error: { nodeId: 'a', code: 'node_failed', message: 'boom', field: 'text' },
    });
    expect(view.nodes.a).toMatchObject({ phase: 'error', error: { message: 'boom', field: 'text' } });
    view = applyEvent(view, { ...base, type: 'node:start', nodeId: 'b', nodeType: 'Text' });
    view = applyEvent(view, { ...base, type: 'run:cancelled', ms: 1, nodeId: 'b' });
    expect(view.status).toBe('cancelled');
    expect(view.nodes.b.phase).toBe('cancelled');
    expect(view.nodes.a.phase).toBe('error');
  });
});

describe('DiffEdit views', () => {
  it('find the original, mask and edited image as tiles of the saved [original | mask | edited] grid', () => {
    const workflow = canvasToWorkflow(workflowToCanvas(shippedWorkflow(), serverCatalog()));
    workflow.nodes.find((n) => n.id === 'image')!.params.image = `up_${'b'.repeat(32)}.png`;
    const view: RunView = {
      runId,
      status: 'succeeded',
      planned: [],
      nodes: { save: { phase: 'done', images: ['/api/files/grid.png'], outputs: {}, warnings: [] } },
    };
    expect(diffEditSources(workflow, view, (id) => `/api/files/${id}`)).toEqual({
      original: { url: '/api/files/grid.png', tile: { index: 0, cols: 3, rows: 1 } },
      mask: { url: '/api/files/grid.png', tile: { index: 1, cols: 3, rows: 1 } },
      edited: { url: '/api/files/grid.png', tile: { index: 2, cols: 3, rows: 1 } },
    });
  });

  it('prefer a node’s own image when it has one', () => {
    const workflow = shippedWorkflow();
    const view: RunView = {
      runId,
      status: 'succeeded',
      planned: [],
      nodes: {
        denoise: { phase: 'done', images: ['/api/files/edited.png'], outputs: {}, warnings: [] },
        save: { phase: 'done', images: ['/g.png'], outputs: {}, warnings: [] },
      },
    };
    expect(diffEditSources(workflow, view, (id) => id).edited).toEqual({ url: '/api/files/edited.png' });
  });

  it('fall back on the output previews when no grid or file shows a role', () => {
    const workflow = shippedWorkflow();
    workflow.nodes = workflow.nodes.filter((n) => n.type !== 'ImageGrid' && n.type !== 'SaveImage');
    workflow.edges = workflow.edges.filter((e) => workflow.nodes.some((n) => n.id === e.to.node));
    const preview = (nodeId: string, output: string, socketType: 'IMAGE' | 'MASK'): NodeRunState => ({
      phase: 'done',
      images: [],
      warnings: [],
      outputs: {
        [output]: {
          output,
          socketType,
          fileId: `pv_${'c'.repeat(32)}.png`,
          url: `/pv/${nodeId}.png`,
          width: 64,
          height: 64,
          sourceWidth: 64,
          sourceHeight: 64,
          batch: 1,
        },
      },
    });
    let view: RunView = { runId, status: 'running', planned: [], nodes: {} };
    for (const [nodeId, nodeType, output, socketType] of [
      ['image', 'LoadImage', 'image', 'IMAGE'],
      ['mask', 'GenerateMask', 'mask', 'MASK'],
      ['denoise', 'MaskedDenoise', 'image', 'IMAGE'],
    ] as const)
      view = applyEvent(view, {
        ...base,
        type: 'node:preview',
        nodeId,
        nodeType,
        preview: preview(nodeId, output, socketType).outputs[output],
      });
    expect(view.nodes.mask.outputs.mask.url).toBe('/pv/mask.png');
    expect(diffEditSources(workflow, view, (id) => id)).toEqual({
      original: { url: '/pv/image.png' },
      mask: { url: '/pv/mask.png' },
      edited: { url: '/pv/denoise.png' },
    });
    // collectPreviews keeps a finished node's own previews and nothing else.
    const kept = collectPreviews({ other: preview('other', 'image', 'IMAGE').outputs }, view);
    expect(Object.keys(kept).sort()).toEqual(['denoise', 'image', 'mask', 'other']);
    expect(collectPreviews(kept, view)).toBe(kept);
  });
});

describe('nodes a finished run shows up to date', () => {
  // the output node came from the cache: nothing upstream was planned, run:start still keyed it all
  const live = applyEvent(
    { runId, status: 'queued', nodes: {}, planned: [] },
    {
      ...base,
      type: 'run:start',
      planned: ['save'],
      cached: ['save'],
      targets: ['save'],
      keys: { image: 'k1', invert: 'k2', save: 'k3' },
    },
  );
  const detail = (status: RunDetail['status'], id = runId): RunDetail =>
    ({
      runId: id,
      status,
      nodes: [{ nodeId: 'save', nodeType: 'SaveImage', state: 'cached', cacheKey: 'k3' }],
    }) as unknown as RunDetail;

  it('counts every node the targets depend on when the run succeeded and its events were seen', () => {
    expect(upToDateNodes(detail('succeeded'), live)).toEqual([
      { nodeId: 'save', nodeType: 'SaveImage', state: 'cached', cacheKey: 'k3' },
      { nodeId: 'image', cacheKey: 'k1' },
      { nodeId: 'invert', cacheKey: 'k2' },
    ]);
  });

  it('counts only the nodes that ran or were cached for a failed run, or without its events', () => {
    const only = [{ nodeId: 'save', nodeType: 'SaveImage', state: 'cached', cacheKey: 'k3' }];
    expect(upToDateNodes(detail('failed'), live)).toEqual(only);
    expect(upToDateNodes(detail('succeeded'), undefined)).toEqual(only);
    const other = '00000000-0000-4000-8000-000000000002';
    expect(upToDateNodes(detail('succeeded', other), live)).toEqual(only);
  });
});
