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

/** HWC [0,1] → planar CHW [-1,1] (the VAE's input convention: `2x − 1`). */
export function rgbToPlanarSigned(image: RgbImage): Float32Array {
  const { width, height, data } = image;
  const plane = width * height;
  const out = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    out[p] = data[p * 3] * 2 - 1;
    out[plane + p] = data[p * 3 + 1] * 2 - 1;
    out[2 * plane + p] = data[p * 3 + 2] * 2 - 1;
  }
  return out;
}

/** Planar CHW [-1,1] → HWC [0,1], clamped (the VAE decoder's output convention: `clamp(x/2 + 0.5, 0, 1)`). */
export function planarSignedToRgb(planar: ArrayLike<number>, width: number, height: number): RgbImage {
  const plane = width * height;
  if (planar.length < plane * 3) {
    throw new Error(`planar image has ${planar.length} values, expected at least ${plane * 3}`);
  }
  const out = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = clamp01(planar[c * plane + p] / 2 + 0.5);
  }
  return { width, height, data: out };
}

/** Float [0,1] → 8-bit with round-half-up, as PIL does for `(x·255).round()`. */
export function toUint8(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.round(clamp01(data[i]) * 255);
  return out;
}

export function fromUint8(bytes: Uint8Array | Buffer): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
