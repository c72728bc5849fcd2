import { diffEditSchedulerConfig, NodeInputError } from '@diffedit/core';
import type { DiffEditSchedulerConfig } from '@diffedit/core';

import type { DiffusionModel } from '../../models/diffusion-model.js';

/** The model's scheduler config as the DiffEdit pipeline uses it (core's diffEditSchedulerConfig), named by file. */
export function modelSchedulerConfig(
  model: Pick<DiffusionModel, 'name' | 'schedulerConfig'>,
): DiffEditSchedulerConfig {
  return diffEditSchedulerConfig(model.schedulerConfig, `${model.name}/scheduler/scheduler_config.json`);
}

/** Converts a RangeError of the scheduler/strength helpers into an input error naming the field. */
export function asFieldError<T>(node: string, field: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof RangeError) throw new NodeInputError(field, `${node}: ${err.message}`);
    throw err;
  }
}
