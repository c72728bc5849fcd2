import { describe, expect, it } from 'vitest';
import { createDiffEditSchedulers, diffEditSchedulerConfig } from '@diffedit/core';

const SD15_PNDM = {
  _class_name: 'PNDMScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
};

describe('createDiffEditSchedulers', () => {
  it('builds DDIM + DDIM-inverse from an SD 1.5 PNDM config with identical values', () => {
    const { scheduler, inverseScheduler, warnings } = createDiffEditSchedulers(SD15_PNDM);
    expect(warnings).toEqual([]);
    expect(scheduler.config).toEqual(inverseScheduler.config);
    expect(scheduler.config.prediction_type).toBe('epsilon');
    expect(scheduler.setTimesteps(50)[0]).toBe(981);
    expect(inverseScheduler.setTimesteps(50)[0]).toBe(1);
  });
  it('rewrites steps_offset to 1 in both and turns an absent clip_sample off, with warnings (P5)', () => {
    const { clip_sample: _c, ...noClip } = SD15_PNDM;
    const { scheduler, inverseScheduler, warnings } = createDiffEditSchedulers(
      { ...noClip, steps_offset: 0 },
      {},
      'sd15/scheduler/scheduler_config.json',
    );
    expect(scheduler.config.steps_offset).toBe(1);
    expect(scheduler.config.clip_sample).toBe(false);
    expect(inverseScheduler.config).toEqual(scheduler.config);
    expect(warnings).toEqual([
      expect.stringContaining('sd15/scheduler/scheduler_config.json does not set clip_sample; using false'),
      expect.stringContaining('steps_offset 0 was rewritten to 1'),
    ]);
  });
  it('keeps an explicit clip_sample (the toy pack clips on purpose)', () => {
    for (const clip of [true, false]) {
      const { config, warnings } = diffEditSchedulerConfig({ ...SD15_PNDM, clip_sample: clip });
      expect(config).toMatchObject({ clip_sample: clip, beta_schedule: 'scaled_linear', steps_offset: 1 });
      expect(warnings).toEqual([]);
    }
  });
  it('passes the precision option to both', () => {
    const s = createDiffEditSchedulers(SD15_PNDM, { precision: 'torch-float32' });
    expect([s.scheduler.precision, s.inverseScheduler.precision]).toEqual(['torch-float32', 'torch-float32']);
  });
});
