import type { ParamFingerprints } from './cache-keys.js';
import type { ValidationResult } from './validate.js';

type ValidResult = Extract<ValidationResult, { ok: true }>;

/** Thrown inside exactJsonText's replacer: the value is not plain JSON. */
const NOT_PLAIN_JSON = Symbol('not plain JSON');

/**
 * The JSON text of `value` when that text says exactly what the value holds (plain objects and arrays, strings,
 * booleans, null and finite numbers other than -0); undefined otherwise (NaN and undefined would read back as
 * null or nothing, a Date as a string, a getter could answer differently next time…).
 */
export function exactJsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, function (this: unknown, key: string, converted: unknown) {
      // the value as held (before toJSON), not as JSON.stringify converted it; the root's holder is { '': value }
      const raw = (this as Record<string, unknown>)[key];
      if (!isExactJson(raw)) throw NOT_PLAIN_JSON;
      return converted;
    });
  } catch {
    return undefined;
  }
}

function isExactJson(raw: unknown): boolean {
  switch (typeof raw) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(raw) && !Object.is(raw, -0);
    case 'object': {
      if (raw === null || Array.isArray(raw)) return true;
      const proto = Object.getPrototypeOf(raw) as unknown;
      return proto === Object.prototype || proto === null;
    }
    default:
      return false;
  }
}

/** Freezes `value` and everything reachable from it (a result shared between runs must not be changed by one). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * What an executor validated and keyed last, reused while runs bring the same document: a run re-validated
 * (schema, params, edges) and re-keyed (canonical JSON of every node) an unchanged workflow for ~2 ms of
 * main-thread time before its first node. Reused only for the same JSON text (exactJsonText) and targets; the
 * result is frozen, as it is shared by the runs.
 */
export class ValidationMemo {
  private last:
    | {
        readonly text: string;
        readonly targets: string;
        readonly result: ValidResult;
        keys?: { readonly fingerprints: string; readonly keys: ReadonlyMap<string, string> };
      }
    | undefined;

  /** validate(document, targets), or the valid result of the last call with the same document and targets. */
  validate(
    document: unknown,
    targets: readonly string[] | undefined,
    validate: () => ValidationResult,
  ): ValidationResult {
    const text = exactJsonText(document);
    const targetsText = JSON.stringify(targets ?? null);
    const last = this.last;
    if (text !== undefined && last !== undefined && last.text === text && last.targets === targetsText) {
      return last.result;
    }
    const result = validate();
    this.last =
      result.ok && text !== undefined
        ? { text, targets: targetsText, result: deepFreeze(result) }
        : undefined;
    return result;
  }

  /** compute(), or the keys computed last for the same validation result and fingerprints (a copy). */
  keys(
    validation: ValidationResult,
    fingerprints: ParamFingerprints,
    compute: () => Map<string, string>,
  ): Map<string, string> {
    const last = this.last;
    if (last === undefined || last.result !== validation) return compute();
    const text = JSON.stringify(fingerprints);
    if (last.keys === undefined || last.keys.fingerprints !== text) {
      last.keys = { fingerprints: text, keys: compute() };
    }
    return new Map(last.keys.keys);
  }
}
