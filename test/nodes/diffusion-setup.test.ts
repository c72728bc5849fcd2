import { diffEditSchedulerConfig } from '@diffedit/core';
import { modelSchedulerConfig } from '@diffedit/nodes';
import { describe, expect, it } from 'vitest';

describe('modelSchedulerConfig', () => {
  it('is diffEditSchedulerConfig of the model’s config, resolved once, a fresh copy each call', () => {
    const schedulerConfig = { beta_schedule: 'scaled_linear', steps_offset: 0, num_train_timesteps: 1000 };
    const model = { name: 'sd', schedulerConfig };
    const expected = diffEditSchedulerConfig(schedulerConfig, 'sd/scheduler/scheduler_config.json');
    const first = modelSchedulerConfig(model);
    expect(first).toEqual(expected);
    expect(first.warnings).toHaveLength(2); // clip_sample unset, steps_offset rewritten
    // a caller changing its copy changes nothing for the next one
    first.config.steps_offset = 7;
    first.warnings.push('changed');
    const second = modelSchedulerConfig(model);
    expect(second).toEqual(expected);
    expect(second.config).not.toBe(first.config);
    // the same config object under another model name: its warnings name that model's file
    const renamed = modelSchedulerConfig({ name: 'other', schedulerConfig });
    expect(renamed.warnings[0]).toContain('other/scheduler/scheduler_config.json');
    expect(renamed).toEqual(
      diffEditSchedulerConfig(schedulerConfig, 'other/scheduler/scheduler_config.json'),
    );
  });
});
