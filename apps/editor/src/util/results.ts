import type { Workflow } from '@diffedit/core';

import type { RunView } from './run-state.js';

/** An image to show: a URL, or one tile of a grid image (row-major index). */
export interface ImageSource {
  url: string;
  tile?: { index: number; cols: number; rows: number };
}

export interface DiffEditSources {
  original?: ImageSource;
  mask?: ImageSource;
  edited?: ImageSource;
}

const GRID_INPUTS = ['a', 'b', 'c', 'd', 'e', 'f'];

/**
 * Where the DiffEdit views find the input image, the mask and the edited image of a run: a node's own image
 * files when it has some, else its tile in an ImageGrid that a saved/previewed output shows (as in the shipped
 * workflows' [original | mask | edited] grid).
 */
export function diffEditSources(
  workflow: Workflow,
  run: RunView | undefined,
  fileUrl: (id: string) => string,
): DiffEditSources {
  const byId = new Map(workflow.nodes.map((n) => [n.id, n]));
  const producer = (nodeId: string, input: string): string | undefined =>
    workflow.edges.find((e) => e.to.node === nodeId && e.to.input === input)?.from.node;
  const ofType = (id: string | undefined, types: string[]): boolean =>
    id !== undefined && types.includes(byId.get(id)?.type ?? '');
  const imageOf = (id: string): string | undefined => run?.nodes[id]?.images[0];

  const role = (id: string | undefined): keyof DiffEditSources | undefined => {
    if (ofType(id, ['LoadImage'])) return 'original';
    if (ofType(id, ['MaskToImage'])) return 'mask';
    if (ofType(id, ['MaskedDenoise', 'VAEDecode'])) return 'edited';
    return undefined;
  };

  const out: DiffEditSources = {};
  // Direct images first (a node with its own preview files).
  for (const node of workflow.nodes) {
    const r = role(node.id);
    const url = imageOf(node.id);
    if (r && url && !out[r]) out[r] = { url };
  }
  // Then tiles of grids that an output node (SaveImage/PreviewImage) shows.
  for (const grid of workflow.nodes.filter((n) => n.type === 'ImageGrid')) {
    const shown = workflow.edges
      .filter((e) => e.from.node === grid.id)
      .map((e) => e.to.node)
      .map((id) => imageOf(id))
      .find((u) => u !== undefined);
    const url = shown ?? imageOf(grid.id);
    if (!url) continue;
    const cols = Number(grid.params.cols ?? 3);
    const rows = Number(grid.params.rows ?? 1);
    // ImageGrid packs its connected inputs in order a..f.
    const connected = GRID_INPUTS.map((input) => producer(grid.id, input)).filter((p) => p !== undefined);
    connected.forEach((from, index) => {
      const r = role(from);
      if (r && !out[r] && index < cols * rows) out[r] = { url, tile: { index, cols, rows } };
    });
  }
  // The input image itself, when it is a server file.
  const load = workflow.nodes.find((n) => n.type === 'LoadImage');
  const image = load?.params.image;
  if (!out.original && typeof image === 'string' && image !== '' && !image.includes('/'))
    out.original = { url: fileUrl(image) };
  // Last, the output previews (at most 256 px): a workflow without a grid still gets its views.
  const previewOf = (id: string, output: string): string | undefined => run?.nodes[id]?.outputs[output]?.url;
  for (const node of workflow.nodes) {
    const r = role(node.id) ?? (node.type === 'GenerateMask' ? 'mask' : undefined);
    const url = previewOf(node.id, r === 'mask' && node.type === 'GenerateMask' ? 'mask' : 'image');
    if (r && url && !out[r]) out[r] = { url };
  }
  return out;
}
