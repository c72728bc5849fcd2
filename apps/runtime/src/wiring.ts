import { resolve } from 'node:path';

import { InputsFolderKey, ServiceRegistry } from '@diffedit/core';
import type { NodeCatalog } from '@diffedit/core';
import { createNodeCatalog } from '@diffedit/nodes';

/**
 * The one place where the runtime's nodes and services are assembled. Later packs register here: their node
 * definitions through @diffedit/nodes' builtinNodeDefinitions(), their services (model manager…) below.
 */
export interface WiringOptions {
  inputsDir: string;
  modelsDir: string;
}

export function defaultCatalog(): NodeCatalog {
  return createNodeCatalog();
}

export function defaultServices(options: WiringOptions): ServiceRegistry {
  const inputsRoot = resolve(options.inputsDir);
  return new ServiceRegistry().set(InputsFolderKey, {
    root: inputsRoot,
    resolve: (path) => resolve(inputsRoot, path),
  });
}
