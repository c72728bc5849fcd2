import { z } from 'zod';

/** Beta schedules understood by diffusers' DDIMScheduler / DDIMInverseScheduler. */
export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

/**
 * A scheduler_config.json as diffusers writes it (snake_case keys, every key optional). Unknown keys such as
 * `_class_name` or `skip_prk_steps` are allowed and ignored by the schedulers.
 */
export interface SchedulerConfig {
  num_train_timesteps?: number;
  beta_start?: number;
  beta_end?: number;
  beta_schedule?: BetaSchedule | string;
  trained_betas?: readonly number[] | null;
  clip_sample?: boolean;
  clip_sample_range?: number;
  set_alpha_to_one?: boolean;
  /** Deprecated alias of set_alpha_to_one, honoured only by `new DDIMInverseScheduler(config)`. */
  set_alpha_to_zero?: boolean;
  steps_offset?: number;
  prediction_type?: PredictionType | string;
  thresholding?: boolean;
  dynamic_thresholding_ratio?: number;
  sample_max_value?: number;
  timestep_spacing?: TimestepSpacing | string;
  rescale_betas_zero_snr?: boolean;
  [unknownKey: string]: unknown;
}

/** A scheduler configuration with every diffusers default filled in and every value validated. */
export interface ResolvedSchedulerConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  trained_betas: readonly number[] | null;
  clip_sample: boolean;
  clip_sample_range: number;
  set_alpha_to_one: boolean;
  steps_offset: number;
  prediction_type: PredictionType;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  sample_max_value: number;
  timestep_spacing: TimestepSpacing;
  rescale_betas_zero_snr: boolean;
}

// Defaults are diffusers' DDIMScheduler.__init__ defaults (DDIMInverseScheduler has the same ones).
const schema = z.object({
  num_train_timesteps: z.number().int().positive().default(1000),
  beta_start: z.number().nonnegative().default(0.0001),
  beta_end: z.number().nonnegative().default(0.02),
  beta_schedule: z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']).default('linear'),
  trained_betas: z.array(z.number()).nullable().default(null),
  clip_sample: z.boolean().default(true),
  clip_sample_range: z.number().positive().default(1.0),
  set_alpha_to_one: z.boolean().default(true),
  steps_offset: z.number().int().nonnegative().default(0),
  prediction_type: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  thresholding: z.boolean().default(false),
  dynamic_thresholding_ratio: z.number().positive().max(1).default(0.995),
  sample_max_value: z.number().positive().default(1.0),
  timestep_spacing: z.enum(['leading', 'trailing', 'linspace']).default('leading'),
  rescale_betas_zero_snr: z.boolean().default(false),
});

export interface ResolveOptions {
  /**
   * Honour the deprecated `set_alpha_to_zero` (it then overrides set_alpha_to_one), as DDIMInverseScheduler's
   * constructor does with keyword arguments. diffusers' from_config drops the key, so fromConfig leaves it off.
   */
  setAlphaToZeroAlias?: boolean;
}

/**
 * Validates a scheduler_config.json object and fills in diffusers' defaults. Unknown keys are ignored, and a
 * JSON null counts as absent (so the default applies).
 * @param json the parsed JSON object
 * @param where names the source in error messages (e.g. a file path)
 */
export function resolveSchedulerConfig(
  json: unknown,
  where = 'scheduler config',
  options: ResolveOptions = {},
): ResolvedSchedulerConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TypeError(
      `${where}: expected a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`,
    );
  }
  const raw = { ...(json as Record<string, unknown>) };
  if (options.setAlphaToZeroAlias === true && typeof raw.set_alpha_to_zero === 'boolean') {
    raw.set_alpha_to_one = raw.set_alpha_to_zero;
  }
  // JSON null means "use the default" for every key except trained_betas (where null is the default anyway).
  for (const key of Object.keys(raw)) if (raw[key] === null) delete raw[key];
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new TypeError(`${where}: invalid scheduler config: ${issues}`);
  }
  const cfg = parsed.data;
  if (cfg.trained_betas !== null && cfg.trained_betas.length !== cfg.num_train_timesteps) {
    throw new RangeError(
      `${where}: trained_betas has ${cfg.trained_betas.length} entries but num_train_timesteps is ${cfg.num_train_timesteps}`,
    );
  }
  return cfg;
}
