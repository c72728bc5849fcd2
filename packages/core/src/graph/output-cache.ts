import { notedDisplayBytes } from '../tensor/display-bytes.js';
import { toByteLevels } from '../tensor/byte-levels.js';
import { Tensor } from '../tensor/tensor.js';
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
  /** Results kept per node at most (0: no limit). */
  variantsPerNode: number;
}

/**
 * Declares that a value's memory belongs to something that keeps it alive without the cache — a loaded model
 * (its manager holds it, sessions, tokenizer and all). The cache counts such a value as 0 bytes and does not
 * walk it: clearing the cache would free none of it, and walking a model's object graph on every run cost
 * ~0.8 ms of main-thread CPU and ~1 MB of garbage. Set it as a property whose value is true.
 */
export const HELD_ELSEWHERE: unique symbol = Symbol.for('diffedit.heldElsewhere');

/**
 * How many results of one node the cache keeps by default: the latest few variants, not every one. Four, not
 * eight: each run that changes a prompt evicts one result per node, and an evicted result's buffers wait in
 * malloc's arenas for the next mark-compact; results kept for eight runs, interleaved with each run's garbage,
 * left the arenas' high-water mark climbing for ~20 runs (rss_growth_pct 10 % median at 512², 4 % with four;
 * docs/performance.md, Memory).
 */
export const DEFAULT_VARIANTS_PER_NODE = 4;

export interface OutputCacheOptions {
  /**
   * Results kept per node (the `node` given to `set`), the least recently used dropped first; 0 for no
   * limit. Default DEFAULT_VARIANTS_PER_NODE.
   */
  variantsPerNode?: number;
}

/**
 * Node outputs by cache key, least recently used evicted first once the byte budget is exceeded. A result
 * larger than the whole budget is not kept.
 *
 * The byte count is what the entries keep alive: each buffer once however many entries or views hold it
 * (reference counted), so `stats().bytes` is the memory the cache would free if cleared. Float32 tensor
 * outputs made only of 8-bit levels (loaded images, masks, display images) are kept as bytes — a quarter of
 * the size — and handed back as float32 tensors with exactly the same values.
 *
 * Besides the budget, each node keeps at most `variantsPerNode` results: iterating on a prompt keeps the
 * last few edits ready to go back to, not every one, so memory levels off after a few runs instead of
 * growing until the budget is reached (a parameter changed 50 times rarely returns to its first value).
 * Results shared by several nodes (same key) count for the node that stored or last used them.
 */
export class OutputCache {
  private readonly entries = new Map<string, StoredEntry>();
  /** buffer → number of entries holding it */
  private readonly bufferRefs = new Map<ArrayBufferLike, number>();
  private totalBytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  /** node → its keys, least recently used first */
  private readonly byNode = new Map<string, Set<string>>();
  readonly variantsPerNode: number;

  constructor(
    readonly budgetBytes: number,
    options: OutputCacheOptions = {},
  ) {
    if (!(budgetBytes >= 0)) throw new RangeError(`cache budget must be ≥ 0 bytes, got ${budgetBytes}`);
    const variants = options.variantsPerNode ?? DEFAULT_VARIANTS_PER_NODE;
    if (!(Number.isInteger(variants) && variants >= 0)) {
      throw new RangeError(`variants per node must be an integer ≥ 0, got ${variants}`);
    }
    this.variantsPerNode = variants;
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
    this.touchNode(entry.node, key);
    return { ...entry.value, outputs: unpackOutputs(entry.value.outputs) };
  }

  /** Whether a key is cached, without counting or reordering. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * Stores a result of `node` (any string naming where it comes from; the executor gives the node's type and
   * id); returns false when it alone exceeds the budget (and is therefore not kept).
   */
  set(key: string, value: CachedNodeResult, node?: string): boolean {
    this.delete(key);
    const stored = { ...value, outputs: packOutputs(value.outputs) };
    const holding = holdingsOf(stored);
    if (holding.ownBytes > this.budgetBytes) return false;
    this.entries.set(key, { value: stored, holding, node });
    this.hold(holding);
    this.touchNode(node, key);
    if (node !== undefined && this.variantsPerNode > 0) {
      const keys = this.byNode.get(node)!;
      for (const older of keys) {
        if (keys.size <= this.variantsPerNode) break;
        this.evict(older);
      }
    }
    for (const oldest of this.entries.keys()) {
      if (this.totalBytes <= this.budgetBytes) break;
      this.evict(oldest);
    }
    return true;
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.release(entry.holding);
    if (entry.node !== undefined) {
      const keys = this.byNode.get(entry.node);
      keys?.delete(key);
      if (keys?.size === 0) this.byNode.delete(entry.node);
    }
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.bufferRefs.clear();
    this.byNode.clear();
    this.totalBytes = 0;
  }

  private evict(key: string): void {
    if (this.delete(key)) this.evictions++;
  }

  /** Marks `key` as `node`'s most recently used result. */
  private touchNode(node: string | undefined, key: string): void {
    if (node === undefined) return;
    let keys = this.byNode.get(node);
    if (keys === undefined) this.byNode.set(node, (keys = new Set()));
    keys.delete(key);
    keys.add(key);
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
      variantsPerNode: this.variantsPerNode,
    };
  }

  private hold(holding: Holdings): void {
    this.totalBytes += holding.scalarBytes;
    for (const buffer of holding.buffers) {
      const refs = this.bufferRefs.get(buffer) ?? 0;
      if (refs === 0) this.totalBytes += buffer.byteLength;
      this.bufferRefs.set(buffer, refs + 1);
    }
  }

  private release(holding: Holdings): void {
    this.totalBytes -= holding.scalarBytes;
    for (const buffer of holding.buffers) {
      const refs = this.bufferRefs.get(buffer) ?? 0;
      if (refs <= 1) {
        this.bufferRefs.delete(buffer);
        this.totalBytes -= buffer.byteLength;
      } else this.bufferRefs.set(buffer, refs - 1);
    }
  }
}

interface StoredEntry {
  value: CachedNodeResult;
  holding: Holdings;
  node: string | undefined;
}

/** What one value keeps alive: its distinct buffers, and the rest (strings, numbers) estimated. */
interface Holdings {
  buffers: Set<ArrayBufferLike>;
  scalarBytes: number;
  /** scalarBytes + the buffers' bytes */
  ownBytes: number;
}

function holdingsOf(value: unknown): Holdings {
  const buffers = new Set<ArrayBufferLike>();
  const scalarBytes = walkSize(value, new WeakSet(), buffers);
  let ownBytes = scalarBytes;
  for (const buffer of buffers) ownBytes += buffer.byteLength;
  return { buffers, scalarBytes, ownBytes };
}

/** A float32 tensor output kept as its 8-bit levels (see toByteLevels). */
class ByteLevelTensor {
  constructor(
    readonly dims: readonly number[],
    readonly bytes: Uint8Array,
  ) {}
}

function packOutputs(outputs: Record<string, unknown>): Record<string, unknown> {
  let packed: Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(outputs)) {
    // only plain Tensors: a subclass could carry more than dims and data
    if (!(value instanceof Tensor) || value.constructor !== Tensor) continue;
    // the bytes a tensor was made from or noted, without a scan (or reading floats it never computed)
    const bytes = value.byteLevels ?? toByteLevels(value.data);
    if (bytes === undefined) continue;
    packed ??= { ...outputs };
    packed[name] = new ByteLevelTensor(value.dims, bytes);
  }
  return packed ?? outputs;
}

function unpackOutputs(outputs: Record<string, unknown>): Record<string, unknown> {
  let unpacked: Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(outputs)) {
    if (!(value instanceof ByteLevelTensor)) continue;
    unpacked ??= { ...outputs };
    // the floats only when a consumer reads them
    unpacked[name] = Tensor.ofByteLevels(value.dims, value.bytes);
  }
  return unpacked ?? outputs;
}

/**
 * Approximate memory held by a value: typed arrays by the byteLength of the buffer they keep alive (a small view
 * of a large buffer holds all of it), buffers by byteLength, strings at 2 bytes a character,
 * scalars at 8, and containers (arrays, objects, class instances such as tensors, maps, sets) by what they
 * hold. Shared sub-values are counted once; a value marked HELD_ELSEWHERE counts 0.
 */
export function byteSizeOf(value: unknown): number {
  const buffers = new Set<ArrayBufferLike>();
  let total = walkSize(value, new WeakSet(), buffers);
  for (const buffer of buffers) total += buffer.byteLength;
  return total;
}

/** Adds the buffers `value` holds to `buffers`; returns the bytes of everything else. */
function walkSize(value: unknown, seen: WeakSet<object>, buffers: Set<ArrayBufferLike>): number {
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
  if ((object as { [HELD_ELSEWHERE]?: unknown })[HELD_ELSEWHERE] === true) return 0;
  if (seen.has(object)) return 0;
  seen.add(object);
  // a view holds its whole buffer alive: count the buffer (once), not the slice the view shows
  if (ArrayBuffer.isView(object)) {
    buffers.add(object.buffer);
    // display bytes noted for an image's floats live as long as they do
    const shown = object instanceof Float32Array ? notedDisplayBytes(object) : undefined;
    if (shown !== undefined) buffers.add(shown.buffer);
    return 0;
  }
  if (object instanceof ArrayBuffer || object instanceof SharedArrayBuffer) {
    buffers.add(object);
    return 0;
  }
  let total = 0;
  const walk = (v: unknown): void => {
    total += walkSize(v, seen, buffers);
  };
  if (object instanceof Map) {
    for (const [k, v] of object) {
      walk(k);
      walk(v);
    }
    return total;
  }
  if (object instanceof Set || Array.isArray(object)) {
    for (const v of object as Iterable<unknown>) walk(v);
    return total;
  }
  for (const v of Object.values(object)) walk(v);
  return total;
}
