// Display bytes: the 8-bit values a float image is shown and saved with, Math.round(clamp01(v) · 255) each.
// The VAE decode program computes them next to the image (in the model worker), so that the grid and
// SaveImage copy bytes instead of rounding 786k floats on the main thread. The output cache counts noted
// bytes with the values they belong to (they live as long as those do).

/**
 * Rounds `count` values of `src` (from `from`) into `out` (from `to`): Math.round(clamp01(v) · 255), computed
 * by truncating v·255 + 0.5 (the same rounding for v in [0, 1]). Stops and returns false at a -0 or NaN, which
 * no byte stands for (the grid passes them through as floats).
 */
export function roundToDisplayBytes(
  src: Float32Array,
  from: number,
  out: Uint8Array,
  to: number,
  count: number,
): boolean {
  // views of the two ranges: plain indexes in the hot loop
  const s = src.subarray(from, from + count);
  const o = out.subarray(to, to + count);
  for (let x = 0; x < count; x++) {
    const v = s[x];
    if (v > 0) o[x] = v < 1 ? (v * 255 + 0.5) | 0 : 255;
    else if (v < 0 || (v === 0 && 1 / v > 0)) o[x] = 0;
    else return false; // -0, NaN
  }
  return true;
}

/** The display bytes of every value of `data`, or undefined when it holds a -0 or NaN. */
export function displayBytesOf(data: Float32Array): Uint8Array | undefined {
  const out = new Uint8Array(data.length);
  return roundToDisplayBytes(data, 0, out, 0, data.length) ? out : undefined;
}

/** Display bytes noted by the producers of float images (values never change once produced). */
const noted = new WeakMap<Float32Array, Uint8Array>();

/** Records that `bytes` are the display bytes of `data` (as displayBytesOf computes them). */
export function noteDisplayBytes(data: Float32Array, bytes: Uint8Array): void {
  if (bytes.length !== data.length) {
    throw new RangeError(`noteDisplayBytes: ${bytes.length} bytes for ${data.length} values`);
  }
  noted.set(data, bytes);
}

/** The display bytes noted for `data`, or undefined (then compute them, or take the float path). */
export function notedDisplayBytes(data: Float32Array): Uint8Array | undefined {
  return noted.get(data);
}
