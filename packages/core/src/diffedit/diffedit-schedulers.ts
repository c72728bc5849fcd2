import { resolveSchedulerConfig } from '../schedulers/config.js';
import type { SchedulerOptions } from '../schedulers/ddim.js';
import { DDIMScheduler } from '../schedulers/ddim.js';
import { DDIMInverseScheduler } from '../schedulers/ddim-inverse.js';

export interface DiffEditSchedulers {
  scheduler: DDIMScheduler;
  inverseScheduler: DDIMInverseScheduler;
  /** Things in the config a user should know about (e.g. clip_sample defaulting to true, pitfall P5). */
  warnings: string[];
}

/**
 * The two schedulers as a diffusers DiffEdit user gets them from a checkpoint's scheduler_config.json (any
 * scheduler class: SD 1.5 ships PNDM, pitfall P4): DDIMScheduler.from_config with the pipeline constructor's
 * rewrite of steps_offset to 1, then DDIMInverseScheduler.from_config(scheduler.config) as the docs do, so both
 * share every value.
 */
export function createDiffEditSchedulers(
  schedulerConfigJson: unknown,
  options: SchedulerOptions = {},
): DiffEditSchedulers {
  const where = 'scheduler_config.json';
  const raw = resolveSchedulerConfig(schedulerConfigJson, where);
  const warnings: string[] = [];
  const json = schedulerConfigJson as Record<string, unknown>;
  if (json.clip_sample === undefined || json.clip_sample === null) {
    warnings.push(
      'clip_sample is not set, so it defaults to true as in diffusers: predicted latents are clipped to ' +
        `[-${raw.clip_sample_range}, ${raw.clip_sample_range}], which ruins Stable Diffusion latents; set "clip_sample": false`,
    );
  }
  if (raw.steps_offset !== 1) {
    warnings.push(
      `steps_offset ${raw.steps_offset} was rewritten to 1, as the DiffEdit pipeline constructor does`,
    );
  }
  const config = { ...raw, steps_offset: 1 };
  return {
    scheduler: new DDIMScheduler(config, options),
    inverseScheduler: new DDIMInverseScheduler(config, options),
    warnings,
  };
}
