import type { OutputPreview, RunDetail } from '@diffedit/core';
import { beforeEach, describe, expect, it } from 'vitest';

import { currentWorkflow, useEditor } from '../src/store/editor.js';
import { viewFromDetail } from '../src/util/run-state.js';
import { serverCatalog, shippedWorkflow } from './fixtures.js';

const store = (): ReturnType<typeof useEditor.getState> => useEditor.getState();

beforeEach(() => {
  useEditor.setState({
    history: { past: [], future: [] },
    run: undefined,
    notice: undefined,
    knownKeys: new Set(),
    fingerprints: {},
    previews: {},
  });
  store().setCatalog(serverCatalog());
  store().load({
    format: 'diffedit-studio.workflow',
    version: 1,
    name: 'Untitled',
    description: '',
    nodes: [],
    edges: [],
  });
});

describe('editor store', () => {
  it('builds a graph: added nodes get their defaults, a refused connection says why and adds nothing', () => {
    const text = store().addNode('Text', { x: 0, y: 0 });
    const model = store().addNode('LoadDiffusionModel', { x: 0, y: 200 });
    const embed = store().addNode('EmbedPrompts', { x: 300, y: 0 });
    expect(store().doc.nodes.find((n) => n.id === model)!.data.params).toEqual({ model: 'toy-sd' });
    expect(
      store().connect({ source: text, sourceHandle: 'text', target: embed, targetHandle: 'model' }),
    ).toBe(false);
    expect(store().notice?.text).toBe(
      'Cannot connect: TEXT cannot connect to embed_prompts.model, which takes DIFFUSION_MODEL',
    );
    expect(store().doc.edges).toEqual([]);
    expect(
      store().connect({ source: model, sourceHandle: 'model', target: embed, targetHandle: 'model' }),
    ).toBe(true);
    expect(
      store().connect({ source: text, sourceHandle: 'text', target: embed, targetHandle: 'prompts' }),
    ).toBe(true);
    expect(
      currentWorkflow().edges.map((e) => `${e.from.node}.${e.from.output}->${e.to.node}.${e.to.input}`),
    ).toEqual(['load_diffusion_model.model->embed_prompts.model', 'text.text->embed_prompts.prompts']);
  });

  it('marks invalid params and missing inputs on their nodes', () => {
    const grid = store().addNode('ImageGrid', { x: 0, y: 0 });
    store().setParam(grid, 'rows', 0);
    const issues = store().issues[grid].map((i) => [i.code, i.field]);
    expect(issues).toContainEqual(['invalid_param', 'rows']);
  });

  it('groups typing into one undo step; undo and redo restore the document', () => {
    const text = store().addNode('Text', { x: 0, y: 0 });
    for (const value of ['a', 'a g', 'a gr', 'a green pear']) store().setParam(text, 'text', value);
    store().endEdit();
    store().setParam(text, 'text', 'a green pear!');
    store().undo();
    expect(currentWorkflow().nodes[0].params.text).toBe('a green pear');
    store().undo();
    expect(currentWorkflow().nodes[0].params.text).toBe('');
    store().undo();
    expect(currentWorkflow().nodes).toEqual([]);
    store().redo();
    store().redo();
    expect(currentWorkflow().nodes[0].params.text).toBe('a green pear');
    store().redo();
    expect(currentWorkflow().nodes[0].params.text).toBe('a green pear!');
  });

  it('deletes the selection with its edges in one undo step', () => {
    store().load(shippedWorkflow());
    useEditor.setState((s) => ({
      doc: { ...s.doc, nodes: s.doc.nodes.map((n) => ({ ...n, selected: n.id === 'mask' })) },
    }));
    store().deleteSelection();
    expect(currentWorkflow().nodes.map((n) => n.id)).not.toContain('mask');
    expect(currentWorkflow().edges.some((e) => e.from.node === 'mask' || e.to.node === 'mask')).toBe(false);
    store().undo();
    expect(currentWorkflow()).toEqual(
      expect.objectContaining({
        edges: expect.arrayContaining([expect.objectContaining({ id: 'mask-mask-denoise-mask' })]),
      }),
    );
  });

  it('duplicates and copy/pastes the selection with the edges inside it, and groups it', () => {
    store().load(shippedWorkflow());
    useEditor.setState((s) => ({
      doc: {
        ...s.doc,
        nodes: s.doc.nodes.map((n) => ({ ...n, selected: n.id === 'mask' || n.id === 'mask_image' })),
      },
    }));
    store().duplicate();
    const ids = currentWorkflow().nodes.map((n) => n.id);
    expect(ids).toContain('generate_mask');
    expect(ids).toContain('mask_to_image');
    expect(
      currentWorkflow()
        .edges.filter((e) => e.to.node === 'mask_to_image')
        .map((e) => e.from.node),
    ).toEqual(['generate_mask']);
    store().copy();
    store().paste();
    // the shipped nodes, two duplicates and two pasted copies
    expect(currentWorkflow().nodes.length).toBe(shippedWorkflow().nodes.length + 4);
    store().groupSelection('copies');
    expect(currentWorkflow().groups).toEqual([
      { id: 'group1', title: 'copies', nodes: ['generate_mask_2', 'mask_to_image_2'] },
    ]);
  });

  it('marks stale nodes once it knows the keys of a run', () => {
    store().load(shippedWorkflow());
    expect(store().stale.size).toBe(shippedWorkflow().nodes.length);
    // A run of the canvas as it is: the server's keys differ (it fingerprints files), the submitted ones count.
    store().startRun('00000000-0000-4000-8000-000000000001');
    store().learnRun([...store().keys.keys()].map((nodeId) => ({ nodeId, cacheKey: `server-${nodeId}` })));
    expect(store().stale.size).toBe(0);
    store().setParam('target', 'text', 'a yellow banana');
    expect([...store().stale].sort()).toEqual(['denoise', 'grid', 'mask', 'mask_image', 'save', 'target']);
  });

  it('shows output previews as they arrive, keeps them across runs, replaces them when a node re-runs', () => {
    store().load(shippedWorkflow());
    const run1 = '00000000-0000-4000-8000-000000000001';
    const run2 = '00000000-0000-4000-8000-000000000002';
    const preview = (output: string, n: number, socketType: 'IMAGE' | 'MASK' = 'IMAGE'): OutputPreview => ({
      output,
      socketType,
      fileId: `pv_${String(n).repeat(32)}.png`,
      url: `/api/files/pv_${String(n).repeat(32)}.png`,
      width: 64,
      height: 64,
      sourceWidth: 64,
      sourceHeight: 64,
      batch: 1,
    });
    const base = (runId: string) => ({ runId, time: 0 });
    const node = (nodeId: string, nodeType: string) => ({ nodeId, nodeType });

    store().startRun(run1);
    store().applyServerEvent({
      ...base(run1),
      type: 'run:start',
      planned: ['image', 'mask'],
      cached: [],
      targets: ['mask'],
      keys: { image: 'k1', mask: 'k2' },
    });
    store().applyServerEvent({ ...base(run1), type: 'node:start', ...node('image', 'LoadImage') });
    // Sent before node:done: shown at once.
    store().applyServerEvent({
      ...base(run1),
      type: 'node:preview',
      ...node('image', 'LoadImage'),
      preview: preview('image', 1),
    });
    expect(store().previews.image.image.fileId).toBe(preview('image', 1).fileId);
    const done = {
      ...base(run1),
      ...node('image', 'LoadImage'),
      cacheKey: 'k1',
      ms: 1,
      outputs: {},
      artifacts: [],
    };
    store().applyServerEvent({ ...done, type: 'node:done' });
    store().applyServerEvent({
      ...base(run1),
      type: 'node:preview',
      ...node('mask', 'GenerateMask'),
      preview: preview('mask', 2, 'MASK'),
    });
    expect(Object.keys(store().previews).sort()).toEqual(['image', 'mask']);
    const before = store().previews;
    // Events of another run, and progress, change nothing.
    store().applyServerEvent({
      ...base(run2),
      type: 'node:preview',
      ...node('image', 'LoadImage'),
      preview: preview('image', 9),
    });
    store().applyServerEvent({
      ...base(run1),
      type: 'node:progress',
      ...node('mask', 'GenerateMask'),
      step: 1,
      total: 2,
    });
    expect(store().previews).toBe(before);

    // The next run reaches only the mask: the image keeps its preview, the mask's is replaced.
    store().startRun(run2);
    store().applyServerEvent({
      ...base(run2),
      type: 'run:start',
      planned: ['mask'],
      cached: [],
      targets: ['mask'],
      keys: { mask: 'k3' },
    });
    expect(store().previews.mask.mask.fileId).toBe(preview('mask', 2).fileId);
    store().applyServerEvent({
      ...base(run2),
      type: 'node:preview',
      ...node('mask', 'GenerateMask'),
      preview: preview('mask', 3, 'MASK'),
    });
    expect(store().previews.mask.mask.fileId).toBe(preview('mask', 3).fileId);
    expect(store().previews.image.image.fileId).toBe(preview('image', 1).fileId);

    // A run re-opened from the server (GET /api/runs/:id) brings its own previews back.
    const detail = {
      runId: run1,
      status: 'succeeded',
      name: 'x',
      createdAt: 0,
      files: [],
      cached: [],
      warnings: [],
      workflow: {},
      nodes: [
        {
          ...node('mask', 'GenerateMask'),
          state: 'cached',
          ms: 0,
          files: [],
          previews: [preview('mask', 2, 'MASK')],
        },
      ],
    } satisfies RunDetail;
    store().setRunView(viewFromDetail(detail));
    expect(store().previews.mask.mask.fileId).toBe(preview('mask', 2).fileId);
    // Opening another document drops them.
    store().load(shippedWorkflow());
    expect(store().previews).toEqual({});
  });
});
