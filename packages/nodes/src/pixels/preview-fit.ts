import type { LatentPreviewProjection } from './latent-preview.js';

/**
 * Fits the linear latent → signed-RGB map of a preview from one image and its own latent (no VAE decode): each
 * latent cell's channels against the mean colour of the `factor`×`factor` pixels it covers, by least squares with
 * a little ridge (a flat image gives the bias alone instead of a singular system).
 * `image` is planar RGB [3, H, W] in [0, 1] (or its 8-bit levels, read as float32(k / 255)); `latent` planar
 * [C, h, w] with H = h·factor, W = w·factor.
 */
export function fitPreviewProjection(
  image: Float32Array | Uint8Array,
  latent: Float32Array,
  channels: number,
  height: number,
  width: number,
  factor: number,
): LatentPreviewProjection {
  const n = channels + 1; // the channels, then the constant 1 for the bias
  const plane = height * width;
  const gram = new Float64Array(n * n);
  const rhs = new Float64Array(n * 3);
  const features = new Float64Array(n);
  const colour = new Float64Array(3);
  const area = factor * factor;
  const sums = previewBlockSums(image, plane, width, height, factor);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      for (let c = 0; c < channels; c++) features[c] = latent[c * plane + p];
      features[channels] = 1;
      for (let k = 0; k < 3; k++) colour[k] = (2 * sums[k * plane + p]) / area - 1;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) gram[i * n + j] += features[i] * features[j];
        for (let k = 0; k < 3; k++) rhs[i * 3 + k] += features[i] * colour[k];
      }
    }
  }
  const ridge = 1e-3 * plane;
  for (let c = 0; c < channels; c++) gram[c * n + c] += ridge;
  const solution = solveLinear(gram, rhs, n, 3);
  const weights = Array.from(
    { length: channels },
    (_, c) => [solution[c * 3], solution[c * 3 + 1], solution[c * 3 + 2]] as [number, number, number],
  );
  const bias: [number, number, number] = [
    solution[channels * 3],
    solution[channels * 3 + 1],
    solution[channels * 3 + 2],
  ];
  return { weights, bias };
}

/** float32(k / 255): the value of an 8-bit level. */
const LEVELS = Float32Array.from({ length: 256 }, (_, k) => k / 255);

/**
 * The sum of each channel over each latent cell's factor×factor pixels, in one row-major pass. Each cell's
 * values are added in the order a loop over the cell's rows, then columns, adds them (the same sums, bit for
 * bit), reading the image's rows once instead of cell by cell.
 */
export function previewBlockSums(
  image: Float32Array | Uint8Array,
  plane: number,
  width: number,
  height: number,
  factor: number,
): Float64Array {
  const sums = new Float64Array(3 * plane);
  const bigWidth = width * factor;
  const bigPlane = plane * factor * factor;
  const levels = image instanceof Uint8Array;
  for (let k = 0; k < 3; k++) {
    for (let Y = 0; Y < height * factor; Y++) {
      const cellRow = k * plane + Math.floor(Y / factor) * width;
      const row = k * bigPlane + Y * bigWidth;
      for (let x = 0; x < width; x++) {
        let sum = sums[cellRow + x];
        const at = row + x * factor;
        if (levels) for (let dx = 0; dx < factor; dx++) sum += LEVELS[image[at + dx]];
        else for (let dx = 0; dx < factor; dx++) sum += image[at + dx];
        sums[cellRow + x] = sum;
      }
    }
  }
  return sums;
}

/** Solves A·X = B (A n×n, B n×m, row-major) by Gaussian elimination with partial pivoting. */
function solveLinear(a: Float64Array, b: Float64Array, n: number, m: number): Float64Array {
  const A = Float64Array.from(a);
  const X = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(A[r * n + col]) > Math.abs(A[pivot * n + col])) pivot = r;
    if (pivot !== col) {
      for (let j = 0; j < n; j++) [A[col * n + j], A[pivot * n + j]] = [A[pivot * n + j], A[col * n + j]];
      for (let j = 0; j < m; j++) [X[col * m + j], X[pivot * m + j]] = [X[pivot * m + j], X[col * m + j]];
    }
    const d = A[col * n + col];
    if (d === 0) continue; // a channel that never varies keeps weight 0
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = A[r * n + col] / d;
      if (f === 0) continue;
      for (let j = col; j < n; j++) A[r * n + j] -= f * A[col * n + j];
      for (let j = 0; j < m; j++) X[r * m + j] -= f * X[col * m + j];
    }
  }
  for (let r = 0; r < n; r++) {
    const d = A[r * n + r];
    for (let j = 0; j < m; j++) X[r * m + j] = d === 0 ? 0 : X[r * m + j] / d;
  }
  return X;
}
