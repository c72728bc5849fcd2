import { resolveSchedulerConfig } from '../schedulers/config.js';
import type { ResolvedSchedulerConfig } from '../schedulers/config.js';
import type { SchedulerOptions } from '../schedulers/ddim.js';
import { DDIMScheduler } from '../schedulers/ddim.js';
import { DDIMInverseScheduler } from '../schedulers/ddim-inverse.js';

export interface DiffEditSchedulerConfig {
  config: ResolvedSchedulerConfig;
  /** What was changed from the checkpoint's file, for the user (pitfalls P4, P5). */
  warnings: string[];
}

/**
 * A checkpoint's scheduler_config.json as the DiffEdit pipeline uses it (any scheduler class: SD 1.5 ships
 * PNDM, pitfall P4), for both DDIM and DDIM-inverse:
 * - `steps_offset` becomes 1, as the pipeline constructor rewrites it (the inverse scheduler is built from the
 *   rewritten config, as the docs do);
 * - a config without `clip_sample` (early SD 1.x copies) gets `false`: DDIM's default `true` would clip the
 *   predicted latents to ±clip_sample_range, which ruins Stable Diffusion latents (P5). An explicit value is
 *   kept (the toy pack clips on purpose).
 */
export function diffEditSchedulerConfig(
  schedulerConfigJson: unknown,
  where = 'scheduler_config.json',
): DiffEditSchedulerConfig {
  const json = schedulerConfigJson as Record<string, unknown>;
  const clipUnset = typeof json === 'object' && json !== null && json.clip_sample == null;
  const raw = resolveSchedulerConfig(
    clipUnset ? { ...json, clip_sample: false } : schedulerConfigJson,
    where,
  );
  const warnings: string[] = [];
  if (clipUnset) {
    warnings.push(
      `${where} does not set clip_sample; using false (DDIM's default true would clip the latents to ` +
        `±${raw.clip_sample_range})`,
    );
  }
  if (raw.steps_offset !== 1) {
    warnings.push(
      `${where}: steps_offset ${raw.steps_offset} was rewritten to 1, as the DiffEdit pipeline constructor does`,
    );
  }
  return { config: { ...raw, steps_offset: 1 }, warnings };
}

export interface DiffEditSchedulers {
  scheduler: DDIMScheduler;
  inverseScheduler: DDIMInverseScheduler;
  /** See diffEditSchedulerConfig. */
  warnings: string[];
}

/** DDIM and DDIM-inverse from one diffEditSchedulerConfig, so both share every value. */
export function createDiffEditSchedulers(
  schedulerConfigJson: unknown,
  options: SchedulerOptions = {},
  where?: string,
): DiffEditSchedulers {
  const { config, warnings } = diffEditSchedulerConfig(schedulerConfigJson, where);
  return {
    scheduler: new DDIMScheduler(config, options),
    inverseScheduler: new DDIMInverseScheduler(config, options),
    warnings,
  };
}
