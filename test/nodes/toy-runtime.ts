import { resolve } from 'node:path';

import { InputsFolderKey, ServiceRegistry } from '@diffedit/core';
import { createRuntime } from '@diffedit/runtime';
import type { Runtime, RuntimeOptions } from '@diffedit/runtime';

import { ModelManagerKey } from '@diffedit/nodes';
import type { ModelManager } from '@diffedit/nodes';

/** The repository's workflows/assets folder (the red apple and friends). */
export const ASSETS = resolve(import.meta.dirname, '../../workflows/assets');

/** A runtime reading inputs from ASSETS and models through `manager` (e.g. an in-process one). */
export function runtimeWith(
  manager: ModelManager,
  modelsDir: string,
  options: Pick<RuntimeOptions, 'progressIntervalMs'> = {},
): Runtime {
  const services = new ServiceRegistry()
    .set(InputsFolderKey, { root: ASSETS, resolve: (p: string) => resolve(ASSETS, p) })
    .set(ModelManagerKey, manager);
  return createRuntime({ services, inputsDir: ASSETS, modelsDir, ...options });
}
