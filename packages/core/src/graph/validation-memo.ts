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

interface MemoEntry {
  readonly text: string;
  readonly targets: string;
  readonly result: ValidResult;
  keys?: { readonly fingerprints: string; readonly keys: ReadonlyMap<string, string> };
}

/** Documents a memo remembers by default: a few, so that runs alternating between workflows still hit. */
const DEFAULT_DOCUMENTS = 4;

/**
 * What an executor validated and keyed lately, reused while runs bring the same document: a run re-validated
 * (schema, params, edges) and re-keyed (canonical JSON of every node) an unchanged workflow for ~2 ms of
 * main-thread time before its first node. Reused only for the same JSON text (exactJsonText) and targets; the
 * result is frozen, as it is shared by the runs. It keeps the last few documents, not only the last one: runs
 * that alternate (a workflow and a variant of it, two queued workflows) validated each again every time.
 */
export class ValidationMemo {
  /** least recently used first */
  private readonly recent: MemoEntry[] = [];

  constructor(private readonly documents: number = DEFAULT_DOCUMENTS) {}

  /** validate(document, targets), or the valid result of an earlier call with the same document and targets. */
  validate(
    document: unknown,
    targets: readonly string[] | undefined,
    validate: () => ValidationResult,
  ): ValidationResult {
    const text = exactJsonText(document);
    const targetsText = JSON.stringify(targets ?? null);
    if (text !== undefined) {
      const at = this.recent.findIndex((e) => e.text === text && e.targets === targetsText);
      if (at >= 0) {
        const [entry] = this.recent.splice(at, 1);
        this.recent.push(entry);
        return entry.result;
      }
    }
    const result = validate();
    if (result.ok && text !== undefined && this.documents > 0) {
      this.recent.push({ text, targets: targetsText, result: deepFreeze(result) });
      if (this.recent.length > this.documents) this.recent.shift();
    }
    return result;
  }

  /** compute(), or the keys computed last for the same validation result and fingerprints (a copy). */
  keys(
    validation: ValidationResult,
    fingerprints: ParamFingerprints,
    compute: () => Map<string, string>,
  ): Map<string, string> {
    const entry = this.recent.find((e) => e.result === validation);
    if (entry === undefined) return compute();
    const text = JSON.stringify(fingerprints);
    if (entry.keys === undefined || entry.keys.fingerprints !== text) {
      entry.keys = { fingerprints: text, keys: compute() };
    }
    return new Map(entry.keys.keys);
  }
}
