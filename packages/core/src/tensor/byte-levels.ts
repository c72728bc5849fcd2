import { notedLevels } from './tensor.js';

/**
 * 8-bit levels: the float32 values k/255 (k = 0…255) that decoded images, masks and display images hold.
 * A float32 array made only of them converts to bytes and back without changing a single value, which lets
 * the output cache keep such images at a quarter of the size.
 */
const LEVELS = Float32Array.from({ length: 256 }, (_, k) => k / 255);

/**
 * The bytes k with data[i] === float32(k / 255) for every i, or undefined as soon as one value is not such a
 * level (latents, noise, a VAE decode's output: those stop at the first value). -0 is not a level (it would
 * come back as +0).
 */
export function toByteLevels(data: Float32Array): Uint8Array | undefined {
  const n = data.length;
  if (n === 0 || levelOf(data[0]) < 0) return undefined;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    // truncating v·255 + 0.5 rounds every v in [0, 1]; anything else (NaN, < 0, > 1, between levels) fails
    // the comparison with the level it lands on
    const k = (v * 255 + 0.5) | 0;
    if (LEVELS[k] !== v) return undefined;
    if (k === 0 && 1 / v < 0) return undefined; // -0
    out[i] = k;
  }
  return out;
}

/** Byte levels their producers computed alongside the floats (see noteByteLevels). */
const noted = notedLevels;

/**
 * Records that `data` holds exactly the levels `bytes` (data[i] === float32(bytes[i] / 255)), for a producer
 * that computes both in one pass, so that byteLevelsOf need not scan the floats. Values are never modified
 * after they are produced (a node must not modify its inputs), so the note stays true.
 */
export function noteByteLevels(data: Float32Array, bytes: Uint8Array): void {
  if (bytes.length !== data.length)
    throw new RangeError(`noteByteLevels: ${bytes.length} bytes for ${data.length} values`);
  noted.set(data, bytes);
}

/** The byte levels noted for `data` (see noteByteLevels), without scanning; undefined when none were. */
export function notedByteLevels(data: Float32Array): Uint8Array | undefined {
  return noted.get(data);
}

/** The byte levels of `data`: the noted ones, else toByteLevels' scan. */
export function byteLevelsOf(data: Float32Array): Uint8Array | undefined {
  return noted.get(data) ?? toByteLevels(data);
}

/** The float32 values of byte levels: fromByteLevels(toByteLevels(x)) equals x value for value. */
export function fromByteLevels(
  bytes: Uint8Array,
  out: Float32Array = new Float32Array(bytes.length),
): Float32Array {
  if (out.length !== bytes.length)
    throw new RangeError(`fromByteLevels: ${bytes.length} bytes into ${out.length} floats`);
  for (let i = 0; i < bytes.length; i++) out[i] = LEVELS[bytes[i]];
  return out;
}

/** The level k of v, or -1 when v is not one. */
function levelOf(v: number): number {
  const k = Math.round(v * 255);
  return k >= 0 && k <= 255 && LEVELS[k] === v && !Object.is(v, -0) ? k : -1;
}
