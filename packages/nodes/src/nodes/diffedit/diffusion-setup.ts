import { diffEditSchedulerConfig, NodeInputError } from '@diffedit/core';
import type { DiffEditSchedulerConfig } from '@diffedit/core';

import type { DiffusionModel } from '../../models/diffusion-model.js';

/** modelSchedulerConfig's results by the config object a model read (it never changes once loaded). */
const resolvedConfigs = new WeakMap<object, { where: string; resolved: DiffEditSchedulerConfig }>();

/**
 * The model's scheduler config as the DiffEdit pipeline uses it (core's diffEditSchedulerConfig), named by file.
 * Resolved once per model (a schema check, on every run of every DiffEdit node otherwise); each call gets its
 * own copy.
 */
export function modelSchedulerConfig(
  model: Pick<DiffusionModel, 'name' | 'schedulerConfig'>,
): DiffEditSchedulerConfig {
  const where = `${model.name}/scheduler/scheduler_config.json`;
  let known = resolvedConfigs.get(model.schedulerConfig);
  if (known === undefined || known.where !== where) {
    known = { where, resolved: diffEditSchedulerConfig(model.schedulerConfig, where) };
    resolvedConfigs.set(model.schedulerConfig, known);
  }
  const { config, warnings } = known.resolved;
  return { config: { ...config }, warnings: [...warnings] };
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
