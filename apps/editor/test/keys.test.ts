import { createRuntime } from '@diffedit/runtime';
import type { ParamFingerprints, SpecCatalog, Workflow } from '@diffedit/core';
import { describe, expect, it } from 'vitest';

import { canvasState, staleNodes } from '../src/util/keys.js';
import { serverCatalog, shippedWorkflow } from './fixtures.js';

const catalog = serverCatalog();
const canvasKeys = (
  workflow: Workflow,
  specs: SpecCatalog,
  fingerprints?: ParamFingerprints,
): Map<string, string> => canvasState(workflow, specs, fingerprints).keys;

const textWorkflow = (subject: string): Workflow => ({
  format: 'diffedit-studio.workflow',
  version: 1,
  name: 'keys',
  description: '',
  nodes: [
    { id: 'subject', type: 'Text', params: { text: subject } },
    { id: 'style', type: 'Text', params: { text: 'watercolour' } },
    { id: 'prompt', type: 'TextTemplate', params: { template: '{a}, {b}' } },
    { id: 'show', type: 'ShowValue', params: {} },
  ],
  edges: [
    { id: 'e1', from: { node: 'subject', output: 'text' }, to: { node: 'prompt', input: 'a' } },
    { id: 'e2', from: { node: 'style', output: 'text' }, to: { node: 'prompt', input: 'b' } },
    { id: 'e3', from: { node: 'prompt', output: 'text' }, to: { node: 'show', input: 'value' } },
  ],
});

describe('cache keys in the browser', () => {
  it('agree with the keys the runtime runs under, and predict what re-runs after an edit', async () => {
    const runtime = createRuntime({ modelsDir: '/nonexistent' });
    try {
      const first = await runtime.run(textWorkflow('a cat'));
      expect(first.status).toBe('done');
      const browser = canvasKeys(textWorkflow('a cat'), catalog.specs);
      expect(Object.fromEntries(first.nodes.map((n) => [n.nodeId, n.cacheKey]))).toEqual(
        Object.fromEntries(browser),
      );

      const known = new Set(first.nodes.map((n) => n.cacheKey));
      const edited = textWorkflow('a dog');
      const predicted = staleNodes(canvasKeys(edited, catalog.specs), known);
      expect([...predicted].sort()).toEqual(['prompt', 'show', 'subject']);

      const second = await runtime.run(edited);
      const ran = second.nodes.filter((n) => n.status === 'ran').map((n) => n.nodeId);
      expect(ran.sort()).toEqual([...predicted].sort());
    } finally {
      await runtime.close();
    }
  });

  it('agree with the runtime for a node that reads a file, once the run has fingerprinted it', async () => {
    const runtime = createRuntime({
      modelsDir: '/nonexistent',
      inputsDir: new URL('../../../workflows', import.meta.url).pathname,
    });
    try {
      const workflow: Workflow = {
        format: 'diffedit-studio.workflow',
        version: 1,
        name: 'file keys',
        description: '',
        nodes: [
          { id: 'image', type: 'LoadImage', params: { image: 'assets/red-apple-on-blue.png' } },
          { id: 'preview', type: 'PreviewImage', params: {} },
        ],
        edges: [
          { id: 'e', from: { node: 'image', output: 'image' }, to: { node: 'preview', input: 'image' } },
        ],
      };
      const result = await runtime.run(workflow);
      expect(result.status).toBe('done');
      const server = Object.fromEntries(result.nodes.map((n) => [n.nodeId, n.cacheKey]));
      expect(Object.fromEntries(canvasKeys(workflow, catalog.specs, result.fingerprints))).toEqual(server);
      // Without the fingerprint the file is keyed on its name only, so the keys differ.
      expect(canvasKeys(workflow, catalog.specs).get('image')).not.toBe(server.image);
    } finally {
      await runtime.close();
    }
  });

  it('changing the target prompt of the DiffEdit workflow stales exactly what depends on it', () => {
    const workflow = shippedWorkflow();
    const before = canvasKeys(workflow, catalog.specs);
    expect(before.size).toBe(workflow.nodes.length);
    const edited = structuredClone(workflow);
    edited.nodes.find((n) => n.id === 'target')!.params.text = 'a yellow banana';
    const stale = staleNodes(canvasKeys(edited, catalog.specs), new Set(before.values()));
    expect([...stale].sort()).toEqual(['denoise', 'grid', 'mask', 'mask_image', 'save', 'target']);
  });

  it('gives keys to the valid part of a half-built canvas', () => {
    const workflow = shippedWorkflow();
    workflow.edges = workflow.edges.filter((e) => e.id !== 'target-text-denoise-prompt');
    workflow.nodes.push({ id: 'stray', type: 'NoSuchNode', params: {} });
    const keys = canvasKeys(workflow, catalog.specs);
    expect([...keys.keys()].sort()).toEqual([
      'encode',
      'image',
      'invert',
      'mask',
      'mask_image',
      'model',
      'source',
      'target',
    ]);
    // The same nodes keep the keys they have on the complete canvas.
    const full = canvasKeys(shippedWorkflow(), catalog.specs);
    for (const [id, key] of keys) expect(key).toBe(full.get(id));
  });
});
