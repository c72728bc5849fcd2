// GenerateMask's source half, remembered per model: when only the target (or its negative, the guidance or
// the threshold) changes, the UNet rows of the source and its negative are the same numbers, so a re-run
// computes only the target's half. One entry per model (the last run), compared exactly.
import type { TensorData } from './loop-programs.js';

/** What the source half's UNet outputs depend on: a text of the scalars and the exact input arrays. */
export interface SourceHalfKey {
  readonly scalars: string;
  readonly arrays: readonly Float32Array[];
}

interface Entry {
  readonly key: SourceHalfKey;
  readonly rows: readonly TensorData[];
}

let memo = new WeakMap<object, Entry>();

/** The source half's UNet outputs remembered for `model` under `key`, if any. */
export function rememberedSourceRows(model: object, key: SourceHalfKey): readonly TensorData[] | undefined {
  const entry = memo.get(model);
  return entry !== undefined && sameKey(entry.key, key) ? entry.rows : undefined;
}

/** Keeps `rows` for `model` under `key` (replacing the model's previous entry). */
export function rememberSourceRows(model: object, key: SourceHalfKey, rows: readonly TensorData[]): void {
  memo.set(model, { key, rows });
}

/** Forgets every model's entry: the next GenerateMask computes both halves (a benchmark's cold run). */
export function forgetRememberedSourceRows(): void {
  memo = new WeakMap();
}

/** The source half's UNet outputs remembered for `model`, whatever their key (for tests). */
export function rememberedRows(model: object): readonly TensorData[] | undefined {
  return memo.get(model)?.rows;
}

/** Bytes of a remembered entry (for tests and docs: inputs copied plus the outputs). */
export function rememberedBytes(model: object): number {
  const entry = memo.get(model);
  if (entry === undefined) return 0;
  let bytes = 0;
  for (const a of entry.key.arrays) bytes += a.byteLength;
  for (const r of entry.rows) bytes += r.data.byteLength;
  return bytes;
}

function sameKey(a: SourceHalfKey, b: SourceHalfKey): boolean {
  if (a.scalars !== b.scalars || a.arrays.length !== b.arrays.length) return false;
  return a.arrays.every((x, i) => sameBits(x, b.arrays[i]));
}

/** Bit for bit (NaN equal to the same NaN, −0 not equal to 0). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
