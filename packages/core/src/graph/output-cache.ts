import type { Artifact, NodeWarningInit } from './node-definition.js';

/** What the cache keeps for a node: its outputs, and the files it emitted (re-emitted on a hit). */
export interface CachedNodeResult {
  outputs: Record<string, unknown>;
  artifacts: Artifact[];
  /** Warnings the node raised when it ran; repeated on every cache hit. */
  warnings?: NodeWarningInit[];
}

export interface CacheStats {
  hits: number;
  misses: number;
  bytes: number;
  entries: number;
  budgetBytes: number;
  evictions: number;
}

/**
 * Node outputs by cache key, least recently used evicted first once the byte budget is exceeded. A result
 * larger than the whole budget is not kept.
 */
export class OutputCache {
  private readonly entries = new Map<string, { value: CachedNodeResult; bytes: number }>();
  private totalBytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(readonly budgetBytes: number) {
    if (!(budgetBytes >= 0)) throw new RangeError(`cache budget must be ≥ 0 bytes, got ${budgetBytes}`);
  }

  /** Looks a key up, counting a hit or a miss and marking it recently used. */
  get(key: string): CachedNodeResult | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Whether a key is cached, without counting or reordering. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Stores a result; returns false when it alone exceeds the budget (and is therefore not kept). */
  set(key: string, value: CachedNodeResult): boolean {
    this.delete(key);
    const bytes = byteSizeOf(value);
    if (bytes > this.budgetBytes) return false;
    this.entries.set(key, { value, bytes });
    this.totalBytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.totalBytes <= this.budgetBytes) break;
      this.entries.delete(oldest);
      this.totalBytes -= entry.bytes;
      this.evictions++;
    }
    return true;
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  stats(): CacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      bytes: this.totalBytes,
      entries: this.entries.size,
      budgetBytes: this.budgetBytes,
      evictions: this.evictions,
    };
  }
}

/**
 * Approximate memory held by a value: typed arrays by the byteLength of the buffer they keep alive (a small view
 * of a large buffer holds all of it), buffers by byteLength, strings at 2 bytes a character,
 * scalars at 8, and containers (arrays, objects, class instances such as tensors, maps, sets) by what they
 * hold. Shared sub-values are counted once.
 */
export function byteSizeOf(value: unknown, seen: WeakSet<object> = new WeakSet()): number {
  if (value === null || value === undefined) return 0;
  switch (typeof value) {
    case 'string':
      return value.length * 2;
    case 'number':
    case 'boolean':
    case 'bigint':
      return 8;
    case 'object':
      break;
    default:
      return 0;
  }
  const object = value as object;
  if (seen.has(object)) return 0;
  seen.add(object);
  // a view holds its whole buffer alive: count the buffer (once), not the slice the view shows
  if (ArrayBuffer.isView(object)) {
    const buffer = object.buffer;
    if (seen.has(buffer)) return 0;
    seen.add(buffer);
    return buffer.byteLength;
  }
  if (object instanceof ArrayBuffer || object instanceof SharedArrayBuffer) return object.byteLength;
  let total = 0;
  if (object instanceof Map) {
    for (const [k, v] of object) total += byteSizeOf(k, seen) + byteSizeOf(v, seen);
    return total;
  }
  if (object instanceof Set) {
    for (const v of object) total += byteSizeOf(v, seen);
    return total;
  }
  if (Array.isArray(object)) {
    for (const v of object) total += byteSizeOf(v, seen);
    return total;
  }
  for (const v of Object.values(object)) total += byteSizeOf(v, seen);
  return total;
}
