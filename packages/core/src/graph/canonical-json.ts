/**
 * Serialises JSON-like data with object keys sorted at every depth, so that two equal values always give the
 * same text (and the same cache key) whatever order their keys were written in.
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, undefined, undefined);
}

/**
 * Where a container sits, for error messages: a chain of keys that becomes text ("$.a[2]") only when an
 * error is thrown (cache keys serialise every run's document; a path string per value was most of the cost).
 */
interface Path {
  readonly parent: Path | undefined;
  readonly key: string | number;
}

function pathText(parent: Path | undefined, key: string | number | undefined): string {
  const keys: (string | number)[] = key === undefined ? [] : [key];
  for (let p = parent; p !== undefined; p = p.parent) keys.push(p.key);
  let text = '$';
  for (let i = keys.length - 1; i >= 0; i--) {
    const k = keys[i];
    text += typeof k === 'number' ? `[${k}]` : `.${k}`;
  }
  return text;
}

/** `value` found at `key` of the container at `parent` (both undefined: the root). */
function serialise(value: unknown, parent: Path | undefined, key: string | number | undefined): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value))
        throw new TypeError(`canonicalJson: ${pathText(parent, key)} is ${value}, not a finite number`);
      // -0 and 0 are the same parameter value (String writes a finite number as JSON.stringify does).
      return value === 0 ? '0' : String(value);
    case 'object': {
      const here = key === undefined ? parent : { parent, key };
      if (Array.isArray(value)) {
        let text = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) text += ',';
          // a hole stays empty, as Array.prototype.map and join leave it
          if (i in value) text += serialise(value[i], here, i);
        }
        return `${text}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonicalJson: ${pathText(parent, key)} is not plain JSON data`);
      }
      const record = value as Record<string, unknown>;
      let text = '{';
      let first = true;
      for (const k of Object.keys(record).sort()) {
        const v = record[k];
        if (v === undefined) continue;
        if (!first) text += ',';
        first = false;
        text += `${JSON.stringify(k)}:${serialise(v, here, k)}`;
      }
      return `${text}}`;
    }
    default:
      throw new TypeError(
        `canonicalJson: ${pathText(parent, key)} has type ${typeof value}, which is not JSON`,
      );
  }
}
