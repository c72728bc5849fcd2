import { sceneColour } from './colours.js';
import type { ToyColourName } from '../vocabulary.js';
import { seededRandom } from './random.js';

export const SHAPE_KINDS = ['circle', 'square', 'triangle', 'ellipse', 'diamond'] as const;
export type ShapeKind = (typeof SHAPE_KINDS)[number];

export interface SceneSpec {
  /** Colour of the object and of the background (names of SCENE_COLOURS). */
  object: ToyColourName;
  background: ToyColourName;
  shape?: ShapeKind;
  /** Image size in pixels; multiples of 8 (default 512 × 512). */
  width?: number;
  height?: number;
  /** Half-size of the object in pixels (default: random in [side/10, side/5]). */
  radius?: number;
  /** Centre in pixels (default: random, keeping the object ≥ 16 px from the border). */
  centre?: readonly [number, number];
  /** Amplitude of a soft value-noise texture, in [0, 1] image units (default 0: flat colours). */
  texture?: number;
  /** Seed of the random choices (default 0). */
  seed?: number;
}

export interface Scene {
  readonly width: number;
  readonly height: number;
  /** RGB in [0, 1], interleaved (HWC), as images are stored. */
  readonly rgb: Float32Array;
  /** The object's footprint, 1 inside, H × W. */
  readonly mask: Uint8Array;
  /** The footprint at latent resolution (H/8 × W/8): 1 where more than half of the 8×8 block is inside. */
  readonly latentMask: Uint8Array;
  /** The spec with every random choice filled in. */
  readonly spec: Required<SceneSpec>;
}

const EDGE_MARGIN = 16;

function insideShape(shape: ShapeKind, dx: number, dy: number, r: number): boolean {
  switch (shape) {
    case 'circle':
      return dx * dx + dy * dy < r * r;
    case 'square':
      return Math.abs(dx) < r * 0.9 && Math.abs(dy) < r * 0.9;
    case 'diamond':
      return Math.abs(dx) + Math.abs(dy) < r * 1.2;
    case 'ellipse':
      return (dx / r) ** 2 + (dy / (0.65 * r)) ** 2 < 1;
    case 'triangle': {
      // Upward triangle with circumradius r·1.15: apex at (0, −R), base at y = R/2.
      const R = r * 1.15;
      if (dy > R / 2 || dy < -R) return false;
      const halfWidth = ((dy + R) / (1.5 * R)) * R * Math.sqrt(3) * 0.5;
      return Math.abs(dx) < halfWidth;
    }
  }
}

function checkSize(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 32 || value % 8 !== 0) {
    throw new Error(`scene ${what} must be a multiple of 8 and at least 32, got ${value}`);
  }
  return value;
}

/** Smooth value noise in [-1, 1]: random values on a coarse grid, bilinearly interpolated. */
function valueNoise(width: number, height: number, cell: number, random: () => number): Float32Array {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = Float32Array.from({ length: gw * gh }, () => random() * 2 - 1);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const gy = y / cell;
    const y0 = Math.floor(gy);
    const fy = gy - y0;
    for (let x = 0; x < width; x++) {
      const gx = x / cell;
      const x0 = Math.floor(gx);
      const fx = gx - x0;
      const top = y0 * gw + x0;
      const bottom = top + gw;
      out[y * width + x] =
        (grid[top] * (1 - fx) + grid[top + 1] * fx) * (1 - fy) +
        (grid[bottom] * (1 - fx) + grid[bottom + 1] * fx) * fy;
    }
  }
  return out;
}

/** One flat-coloured object on a background: the toy world's test image, seeded and exactly reproducible. */
export function generateScene(spec: SceneSpec): Scene {
  const width = checkSize(spec.width ?? 512, 'width');
  const height = checkSize(spec.height ?? 512, 'height');
  const objectColour = sceneColour(spec.object).unit;
  const backgroundColour = sceneColour(spec.background).unit;
  const seed = spec.seed ?? 0;
  const random = seededRandom(seed);
  const side = Math.min(width, height);
  const shape = spec.shape ?? SHAPE_KINDS[Math.floor(random() * SHAPE_KINDS.length)];
  if (!SHAPE_KINDS.includes(shape))
    throw new Error(`unknown scene shape '${shape}' (known: ${SHAPE_KINDS.join(', ')})`);
  const radius = spec.radius ?? Math.round(side / 10 + random() * (side / 5 - side / 10));
  const extent = radius * 1.2;
  if (!(radius > 0)) throw new Error(`scene radius must be positive, got ${radius}`);
  if (!spec.centre && 2 * (extent + EDGE_MARGIN) > side) {
    throw new Error(
      `scene radius ${radius} does not fit a ${width}×${height} image with a ${EDGE_MARGIN}px margin`,
    );
  }
  const pick = (size: number): number =>
    Math.round(extent + EDGE_MARGIN + random() * (size - 2 * (extent + EDGE_MARGIN)));
  const centre: readonly [number, number] = spec.centre ?? [pick(width), pick(height)];
  const texture = spec.texture ?? 0;
  const noise = texture > 0 ? valueNoise(width, height, Math.max(8, side / 16), random) : undefined;

  const rgb = new Float32Array(width * height * 3);
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const inside = insideShape(shape, x + 0.5 - centre[0], y + 0.5 - centre[1], radius);
      mask[p] = inside ? 1 : 0;
      const colour = inside ? objectColour : backgroundColour;
      const n = noise ? texture * noise[p] : 0;
      for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.min(1, Math.max(0, colour[c] + n));
    }
  }
  return {
    width,
    height,
    rgb,
    mask,
    latentMask: latentFootprint(mask, width, height),
    spec: {
      object: spec.object,
      background: spec.background,
      shape,
      width,
      height,
      radius,
      centre,
      texture,
      seed,
    },
  };
}

/** Majority vote of each 8×8 block of a full-resolution mask (more than 32 of 64 pixels inside). */
export function latentFootprint(mask: Uint8Array, width: number, height: number): Uint8Array {
  const w = width / 8;
  const h = height / 8;
  const out = new Uint8Array(w * h);
  for (let by = 0; by < h; by++) {
    for (let bx = 0; bx < w; bx++) {
      let count = 0;
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) count += mask[(by * 8 + y) * width + bx * 8 + x];
      out[by * w + bx] = count > 32 ? 1 : 0;
    }
  }
  return out;
}

/** 8-bit interleaved RGB (for PNG encoding). */
export function sceneToUint8(scene: Scene): Uint8Array {
  return Uint8Array.from(scene.rgb, (v) => Math.round(v * 255));
}

/** Planar CHW data in [-1, 1], the layout and range of the VAE encoder's `sample` input. */
export function sceneToSignedChw(scene: Scene): Float32Array {
  const { width, height, rgb } = scene;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = rgb[p * 3 + c] * 2 - 1;
  return out;
}
