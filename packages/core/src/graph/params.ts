import { quoteValue } from '../workflow/issues.js';

/** The widget kinds a node parameter can have. */
export const PARAM_KINDS = [
  'number',
  'int',
  'string',
  'text',
  'enum',
  'bool',
  'seed',
  'file',
  'model',
] as const;
export type ParamKind = (typeof PARAM_KINDS)[number];

interface ParamSpecBase {
  label?: string;
  description?: string;
}

export interface NumberParamSpec extends ParamSpecBase {
  kind: 'number' | 'int';
  default: number;
  min?: number;
  max?: number;
  /** `min` itself is refused (the value must be greater), e.g. a ratio that must be > 0. */
  exclusiveMin?: boolean;
  /** `max` itself is refused (the value must be smaller). */
  exclusiveMax?: boolean;
  step?: number;
}

/** A random seed: a non-negative integer. Nodes that draw random numbers take one so runs are reproducible. */
export interface SeedParamSpec extends ParamSpecBase {
  kind: 'seed';
  default: number;
}

export interface StringParamSpec extends ParamSpecBase {
  /** 'string' is a one-line widget, 'text' a multi-line one. */
  kind: 'string' | 'text';
  default: string;
}

export interface EnumParamSpec extends ParamSpecBase {
  kind: 'enum';
  options: readonly string[];
  default: string;
}

export interface BoolParamSpec extends ParamSpecBase {
  kind: 'bool';
  default: boolean;
}

/** A path the node reads; its content fingerprint enters the node's cache key. */
export interface FileParamSpec extends ParamSpecBase {
  kind: 'file';
  default: string;
  /** Accepted file extensions, e.g. ['.png', '.jpg'] (informational for the editor). */
  extensions?: readonly string[];
}

/** A model name or folder; its fingerprint (files, sizes, mtimes) enters the node's cache key. */
export interface ModelParamSpec extends ParamSpecBase {
  kind: 'model';
  default: string;
  /** Which family of model fits, e.g. 'diffusion' (informational for the editor). */
  modelType?: string;
}

export type ParamSpec =
  | NumberParamSpec
  | SeedParamSpec
  | StringParamSpec
  | EnumParamSpec
  | BoolParamSpec
  | FileParamSpec
  | ModelParamSpec;

export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

export type ParamValue = number | string | boolean;

/** The TypeScript type of a param's value inside `run`. */
export type ParamValueOf<P extends ParamSpec> = P extends { kind: 'number' | 'int' | 'seed' }
  ? number
  : P extends { kind: 'bool' }
    ? boolean
    : P extends { kind: 'enum'; options: readonly (infer O)[] }
      ? O
      : string;

export type ParamValues<P extends ParamSpecs> = { [K in keyof P]: ParamValueOf<P[K]> };

/** Largest seed accepted: seeds are exact integers in a double. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/** Kinds whose value names something on disk; their fingerprints enter cache keys. */
export function isFingerprintedKind(kind: ParamKind): kind is 'file' | 'model' {
  return kind === 'file' || kind === 'model';
}

/**
 * Checks one param value against its spec. Returns an error message, or undefined when the value is valid.
 */
export function checkParamValue(spec: ParamSpec, value: unknown): string | undefined {
  switch (spec.kind) {
    case 'number':
    case 'int':
    case 'seed': {
      if (typeof value !== 'number' || !Number.isFinite(value))
        return `expected a finite number, got ${describe(value)}`;
      if ((spec.kind === 'int' || spec.kind === 'seed') && !Number.isInteger(value)) {
        return `expected an integer, got ${value}`;
      }
      const { min, max, exclusiveMin, exclusiveMax } = numericRange(spec);
      if (min !== undefined && exclusiveMin && value <= min) return `${value} must be greater than ${min}`;
      if (min !== undefined && value < min) return `${value} is below the minimum ${min}`;
      if (max !== undefined && exclusiveMax && value >= max) return `${value} must be less than ${max}`;
      if (max !== undefined && value > max) return `${value} is above the maximum ${max}`;
      return undefined;
    }
    case 'bool':
      return typeof value === 'boolean' ? undefined : `expected true or false, got ${describe(value)}`;
    case 'enum':
      if (typeof value !== 'string' || !spec.options.includes(value)) {
        return `expected one of ${spec.options.map((o) => JSON.stringify(o)).join(', ')}, got ${describe(value)}`;
      }
      return undefined;
    case 'string':
    case 'text':
    case 'file':
    case 'model':
      return typeof value === 'string' ? undefined : `expected a string, got ${describe(value)}`;
  }
}

/** The range a numeric param accepts (a seed's is implicit: 0 to MAX_SEED); bounds are inclusive unless flagged. */
export function numericRange(spec: NumberParamSpec | SeedParamSpec): {
  min?: number;
  max?: number;
  exclusiveMin: boolean;
  exclusiveMax: boolean;
} {
  if (spec.kind === 'seed') return { min: 0, max: MAX_SEED, exclusiveMin: false, exclusiveMax: false };
  return {
    ...(spec.min !== undefined ? { min: spec.min } : {}),
    ...(spec.max !== undefined ? { max: spec.max } : {}),
    exclusiveMin: spec.exclusiveMin === true,
    exclusiveMax: spec.exclusiveMax === true,
  };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return quoteValue(value);
  return `${typeof value} ${String(value)}`;
}
