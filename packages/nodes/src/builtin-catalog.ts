import { NodeCatalog } from '@diffedit/core';
import type { NodeDefinition, SerializedNodeDefinition } from '@diffedit/core';

import { diffEditNodes } from './nodes/diffedit/index.js';
import { genericNodes } from './nodes/generic/index.js';
import { imageNodes } from './nodes/image/index.js';
import { modelLoaderNodes } from './nodes/loaders/index.js';

/**
 * Every node this package ships. Later packs (DiffEdit, imaging) add their definitions to this list; it is the
 * one place the runtime's catalog is built from.
 */
export function builtinNodeDefinitions(): NodeDefinition[] {
  return [...genericNodes, ...modelLoaderNodes, ...imageNodes, ...diffEditNodes];
}

/** A catalog of the built-in nodes plus `extra` ones (tests, plug-ins). */
export function createNodeCatalog(extra: Iterable<NodeDefinition> = []): NodeCatalog {
  const catalog = new NodeCatalog(builtinNodeDefinitions());
  for (const def of extra) catalog.register(def);
  return catalog;
}

/** The catalog as JSON (type, title, category, inputs, params with kinds/defaults/ranges, outputs). */
export function listNodes(catalog: NodeCatalog = createNodeCatalog()): SerializedNodeDefinition[] {
  return catalog.toJSON();
}
