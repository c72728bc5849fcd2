import { describe, expect, it } from 'vitest';

import { diffEditSchedulerConfig } from '../../src/nodes/diffedit/diffusion-setup.js';

const SD15_PNDM = {
  _class_name: 'PNDMScheduler',
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
};

describe('diffEditSchedulerConfig', () => {
  it('keeps an explicit clip_sample (the toy pack clips on purpose)', () => {
    const warnings: string[] = [];
    for (const clip of [true, false]) {
      const config = diffEditSchedulerConfig(
        { name: 'm', schedulerConfig: { ...SD15_PNDM, clip_sample: clip } },
        (w) => warnings.push(w),
      );
      expect(config.clip_sample).toBe(clip);
      expect(config).toMatchObject({
        beta_schedule: 'scaled_linear',
        steps_offset: 1,
        set_alpha_to_one: false,
      });
    }
    expect(warnings).toEqual([]);
  });

  it('turns clipping off, with a warning, when an early SD 1.x config leaves clip_sample out (P5)', () => {
    const warnings: string[] = [];
    const config = diffEditSchedulerConfig({ name: 'sd15', schedulerConfig: SD15_PNDM }, (w) =>
      warnings.push(w),
    );
    expect(config.clip_sample).toBe(false);
    expect(warnings).toEqual([
      expect.stringContaining('sd15/scheduler/scheduler_config.json does not set clip_sample'),
    ]);
  });
});
