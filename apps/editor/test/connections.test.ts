import { describe, expect, it } from 'vitest';

import { checkConnection, compatibleTargets } from '../src/util/connections.js';
import { workflowToCanvas } from '../src/util/convert.js';
import { serverCatalog, shippedWorkflow } from './fixtures.js';

const catalog = serverCatalog();
const doc = workflowToCanvas(shippedWorkflow(), catalog);

describe('checkConnection', () => {
  it('accepts a compatible free input and says which type it connects as', () => {
    const graph = { ...doc, edges: doc.edges.filter((e) => e.id !== 'target-text-denoise-prompt') };
    const result = checkConnection(graph, catalog, {
      source: 'target',
      sourceHandle: 'text',
      target: 'denoise',
      targetHandle: 'prompt',
    });
    expect(result).toEqual({ ok: true, outputType: 'TEXT', as: 'TEXT' });
  });

  it('refuses incompatible socket types, naming both', () => {
    const result = checkConnection(doc, catalog, {
      source: 'image',
      sourceHandle: 'image',
      target: 'denoise',
      targetHandle: 'negative',
    });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.reason).toBe('IMAGE cannot connect to denoise.negative, which takes TEXT or EMBEDDING');
  });

  it('refuses an input that already has an edge', () => {
    const result = checkConnection(doc, catalog, {
      source: 'source',
      sourceHandle: 'text',
      target: 'denoise',
      targetHandle: 'prompt',
    });
    expect(result).toEqual({
      ok: false,
      reason: 'denoise.prompt is already connected (an input takes one edge)',
    });
  });

  it('refuses an edge that closes a cycle, and a self-loop', () => {
    const nodes = [
      { id: 'a', data: { type: 'TextTemplate' } },
      { id: 'b', data: { type: 'TextTemplate' } },
    ];
    const edges = [{ source: 'a', target: 'b', targetHandle: 'a' }];
    expect(
      checkConnection({ nodes, edges }, catalog, {
        source: 'b',
        sourceHandle: 'text',
        target: 'a',
        targetHandle: 'a',
      }),
    ).toEqual({
      ok: false,
      reason: 'connecting would make a cycle through a',
    });
    expect(
      checkConnection({ nodes, edges }, catalog, {
        source: 'a',
        sourceHandle: 'text',
        target: 'a',
        targetHandle: 'b',
      }).ok,
    ).toBe(false);
  });

  it('uses the core conversions: INT feeds a NUMBER-or-TEXT input, TEXT feeds TEXT_LIST', () => {
    const nodes = [
      { id: 'i', data: { type: 'Integer' } },
      { id: 't', data: { type: 'TextTemplate' } },
      { id: 's', data: { type: 'Text' } },
      { id: 'e', data: { type: 'EmbedPrompts' } },
    ];
    expect(
      checkConnection({ nodes, edges: [] }, catalog, {
        source: 'i',
        sourceHandle: 'value',
        target: 't',
        targetHandle: 'a',
      }),
    ).toMatchObject({ ok: true, as: 'INT' });
    expect(
      checkConnection({ nodes, edges: [] }, catalog, {
        source: 's',
        sourceHandle: 'text',
        target: 'e',
        targetHandle: 'prompts',
      }),
    ).toMatchObject({ ok: true, as: 'TEXT' });
  });
});

describe('compatibleTargets', () => {
  it('lists the node types with an input that takes a dragged MASK output', () => {
    const types = compatibleTargets(catalog, 'input', ['MASK']).map((c) => `${c.type}.${c.handle}`);
    expect(types).toEqual(['ShowValue.value', 'MaskToImage.mask', 'MaskedDenoise.mask']);
  });

  it('lists the node types with an output a dragged DIFFUSION_MODEL input takes', () => {
    expect(compatibleTargets(catalog, 'output', ['DIFFUSION_MODEL'])).toEqual([
      { type: 'LoadDiffusionModel', handle: 'model' },
    ]);
  });
});
