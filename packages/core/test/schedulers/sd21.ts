/** The SD 2.1 scheduler_config.json as published (spec §2), plus the step inputs of spec §9. */
export const SD21_CONFIG = {
  _class_name: 'DDIMScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  prediction_type: 'v_prediction',
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
} as const;

export const EPS_CONFIG = { ...SD21_CONFIG, prediction_type: 'epsilon' } as const;

export const X_T = Float64Array.from([0.5, -1.0, 0.25, 2.0]);
export const MODEL_OUT = Float64Array.from([0.1, -0.2, 0.3, -0.4]);

export function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol: number): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol))
      throw new Error(`element ${i}: ${actual[i]} vs ${expected[i]} (|err| ${err} > ${tol})`);
  }
}
