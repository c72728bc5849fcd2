/**
 * `record[key]` for a key that comes from a user (a workflow, a --set, a template): only the record's own
 * properties count, so names such as 'constructor', 'toString' or '__proto__' never reach Object.prototype.
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
