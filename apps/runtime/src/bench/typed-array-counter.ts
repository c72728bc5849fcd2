/** The typed-array constructors whose `new` calls are counted. */
const COUNTED = [
  'Float32Array',
  'Float64Array',
  'Int32Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

/**
 * Counts `new XxxArray(…)` calls made while the synchronous `fn` runs, by swapping the global constructors for
 * counting proxies (instanceof keeps working; views made by subarray() are not counted: they allocate no
 * buffer). Meant for short, synchronous measurement passes only; the globals are restored before returning.
 */
export function countTypedArrayAllocations(fn: () => void): number {
  const globals = globalThis as unknown as Record<string, unknown>;
  const originals = new Map<string, unknown>();
  let count = 0;
  for (const name of COUNTED) {
    const original = globals[name] as new (...args: unknown[]) => object;
    originals.set(name, original);
    globals[name] = new Proxy(original, {
      construct(target, args, newTarget) {
        count++;
        return Reflect.construct(target, args, newTarget) as object;
      },
    });
  }
  try {
    fn();
  } finally {
    for (const [name, original] of originals) globals[name] = original;
  }
  return count;
}
