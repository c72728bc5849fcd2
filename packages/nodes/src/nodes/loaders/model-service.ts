import { NodeInputError, serviceKey } from '@diffedit/core';
import type { NodeContext } from '@diffedit/core';

import { ModelError } from '../../models/model-errors.js';
import type { ModelManager } from '../../models/model-manager.js';

/** The runtime's ModelManager, as nodes get it through ctx.services. */
export const ModelManagerKey = serviceKey<ModelManager>('models');

/** Loads a model through the manager; a missing or broken model becomes an error naming the node's field. */
export async function loadModelFor<T>(
  ctx: NodeContext,
  field: string,
  name: string,
  load: (manager: ModelManager, name: string) => Promise<T>,
): Promise<T> {
  const manager = ctx.services.get(ModelManagerKey);
  if (name.trim() === '')
    throw new NodeInputError(field, `${ctx.nodeType}: no model chosen (param ${field})`);
  try {
    return await load(manager, name);
  } catch (err) {
    if (err instanceof ModelError) throw new NodeInputError(field, `${ctx.nodeType}: ${err.message}`);
    throw err;
  }
}
