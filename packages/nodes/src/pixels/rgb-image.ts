/**
 * An 8-bit-free, in-memory RGB picture: channels-last (HWC) float32 in [0, 1].
 * It is the currency of the pure image helpers; nodes convert it to and from tensors at their edges.
 */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** length width·height·3, row-major, channels last, values in [0, 1] */
  readonly data: Float32Array;
}

/** A single-channel picture (masks), row-major, values in [0, 1]. */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export function createRgbImage(width: number, height: number, data?: Float32Array): RgbImage {
  assertSize(width, height);
  const expected = width * height * 3;
  if (data && data.length !== expected) {
    throw new Error(`RGB image data has ${data.length} values, expected ${expected} (${width}×${height}×3)`);
  }
  return { width, height, data: data ?? new Float32Array(expected) };
}

export function createGreyImage(width: number, height: number, data?: Float32Array): GreyImage {
  assertSize(width, height);
  const expected = width * height;
  if (data && data.length !== expected) {
    throw new Error(`grey image data has ${data.length} values, expected ${expected} (${width}×${height})`);
  }
  return { width, height, data: data ?? new Float32Array(expected) };
}

function assertSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`invalid image size ${width}×${height}`);
  }
}

/** Float [0,1] → 8-bit with round-half-up, as PIL does for `(x·255).round()`. */
export function toUint8(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.round(clamp01(data[i]) * 255);
  return out;
}

/**
 * Rounds values in place to the 8-bit levels k/255 an 8-bit picture holds (what toUint8 then fromUint8 gives,
 * without the two copies): display images are shown and saved at 8 bits, and the output cache keeps values
 * made only of such levels as bytes.
 */
export function roundToByteLevels(data: Float32Array): Float32Array {
  for (let i = 0; i < data.length; i++) data[i] = Math.round(clamp01(data[i]) * 255) / 255;
  return data;
}

export function fromUint8(bytes: Uint8Array | Buffer): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
