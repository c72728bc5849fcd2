import { DDIMInverseScheduler, DDIMScheduler, NodeInputError, resolveSchedulerConfig } from '@diffedit/core';
import type { ResolvedSchedulerConfig } from '@diffedit/core';

import type { DiffusionModel } from '../../models/diffusion-model.js';

/**
 * The model's scheduler config as the DiffEdit pipeline uses it (spec §2, P4): whatever class the export
 * ships (SD 1.5 ships PNDM), DDIM and DDIM-inverse are built from the same values; the forward scheduler gets
 * steps_offset 1 as the pipeline constructor forces. A config without `clip_sample` (early SD 1.x copies) would
 * get DDIM's default `true` and clip SD latents to [-1, 1] (P5): it gets `false`, and `warn` is told.
 */
export function diffEditSchedulerConfig(
  model: Pick<DiffusionModel, 'name' | 'schedulerConfig'>,
  warn: (message: string) => void = () => {},
): ResolvedSchedulerConfig {
  const where = `${model.name}/scheduler/scheduler_config.json`;
  const raw = model.schedulerConfig;
  if (raw.clip_sample !== undefined && raw.clip_sample !== null) return resolveSchedulerConfig(raw, where);
  warn(`${where} does not set clip_sample; using false (DDIM's default true would clip the latents to ±1)`);
  return resolveSchedulerConfig({ ...raw, clip_sample: false }, where);
}

export function forwardScheduler(config: ResolvedSchedulerConfig): DDIMScheduler {
  return new DDIMScheduler({ ...config, steps_offset: 1 });
}

export function inverseScheduler(config: ResolvedSchedulerConfig): DDIMInverseScheduler {
  return new DDIMInverseScheduler(config);
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
