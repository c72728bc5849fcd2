// The guided ε step in WebAssembly (step-kernels.wat), with the JavaScript loop's bits. Measured here with warm
// caches, copies included: 4096 values 41 → 20 µs, 65536 values 639 → 338 µs; inside a sampling loop, where
// the UNet's output comes in from memory, ~20 % less a step at 4096. The loops call it once a step on latents
// of 4·h·w values; the JavaScript loop stays for engines without WebAssembly SIMD, short arrays and NaNs.
import { ensureBytes, lazyKernels } from './instance.js';
import type { KernelMemory } from './instance.js';
import { STEP_KERNELS_BASE64 } from './step-kernels-binary.js';

interface StepKernelExports {
  readonly memory: KernelMemory;
  guidedStep(
    u: number,
    c: number,
    x: number,
    out: number,
    x0: number,
    n: number,
    g: number,
    sa: number,
    sb: number,
    c1: number,
    c2: number,
    hi: number,
    clip: number,
  ): number;
  blend(x: number, mask: number, bg: number, plane: number, c: number): number;
}

/** Below this many values the copies in and out cost more than the loop saves. */
export const WASM_STEP_MIN_VALUES = 64;

const stepKernels = lazyKernels<StepKernelExports>(STEP_KERNELS_BASE64);

/** Whether this engine runs the kernels (the tests check that they are not silently skipped). */
export function stepKernelsAvailable(): boolean {
  return stepKernels() !== null;
}

/** The last views regionViews() made, and what they were made for. */
let views: { buffer: ArrayBuffer; padded: number; list: readonly Float32Array[] } | undefined;

/**
 * Float32 views of seven regions of the kernels' memory, each `padded` values long (grown when needed). Kept from
 * call to call while the memory and the size stay: made afresh at every step of a sampling loop they cost
 * ~25 µs there (~1 µs in a tight loop).
 */
function regionViews(k: StepKernelExports, padded: number): readonly Float32Array[] {
  // a memory that grew has a new buffer and detaches the old one (byteLength 0): the views are then remade
  if (views !== undefined && views.padded === padded && views.buffer.byteLength !== 0) return views.list;
  ensureBytes(k.memory, padded * 4 * 7);
  const buffer = k.memory.buffer;
  const all = new Float32Array(buffer);
  const list = Array.from({ length: 7 }, (_, r) => all.subarray(r * padded, (r + 1) * padded));
  views = { buffer, padded, list };
  return list;
}

/**
 * guidedEpsilonStep's loop (clip range r ≥ 0 or Infinity) in the kernel: u, c, x copied in, out and x0 copied
 * back. Returns false, having written nothing, when it cannot: no kernel, too few values, or a NaN in o or
 * x̂0 (whose payload the JavaScript loop decides); the caller then runs the JavaScript loop.
 */
export function wasmGuidedEpsilonStep(
  u: Float32Array,
  c: Float32Array,
  g: number,
  x: Float32Array,
  out: Float32Array,
  x0: Float32Array,
  sa: number,
  sb: number,
  c1: number,
  c2: number,
  r: number,
): boolean {
  const n = x0.length;
  const k = kernelsFor(n, u, c, x, out);
  if (k === null) return false;
  // an even count in 8-byte-aligned regions (the kernel works two values a time); the pad value is zero
  const padded = (n + 3) & ~3;
  const regions = regionViews(k, padded);
  if (!stepInKernel(k, regions, padded, n, u, c, g, x, sa, sb, c1, c2, r)) return false;
  out.set(regions[3].subarray(0, n));
  x0.set(regions[4].subarray(0, n));
  return true;
}

/**
 * wasmGuidedEpsilonStep, then diffEditBlend of `out` in place with the inverted latent `background` under the
 * `mask` plane (the same plane for each of the x0.length / mask.length channels), before anything is copied back:
 * the denoising loop's step in one call. Returns false, having written nothing, when it cannot (see
 * wasmGuidedEpsilonStep; also a plane of odd length, or a NaN in the blend).
 */
export function wasmGuidedEpsilonStepBlend(
  u: Float32Array,
  c: Float32Array,
  g: number,
  x: Float32Array,
  out: Float32Array,
  x0: Float32Array,
  sa: number,
  sb: number,
  c1: number,
  c2: number,
  r: number,
  mask: Float32Array,
  background: Float32Array,
): boolean {
  const n = x0.length;
  const plane = mask.length;
  if (plane === 0 || plane % 2 !== 0 || n % plane !== 0 || background.length < n) return false;
  const k = kernelsFor(n, u, c, x, out);
  if (k === null) return false;
  // n is a multiple of the even plane: no pad
  const regions = regionViews(k, n);
  regions[5].set(mask);
  regions[6].set(background.subarray(0, n));
  if (!stepInKernel(k, regions, n, n, u, c, g, x, sa, sb, c1, c2, r)) return false;
  const b = n * 4;
  if (k.blend(3 * b, 5 * b, 6 * b, plane, n / plane) !== 0) return false;
  out.set(regions[3]);
  x0.set(regions[4]);
  return true;
}

/** This thread's kernels when the arrays hold n values and n is enough to pay for the copies, else null. */
function kernelsFor(
  n: number,
  u: Float32Array,
  c: Float32Array,
  x: Float32Array,
  out: Float32Array,
): StepKernelExports | null {
  if (n < WASM_STEP_MIN_VALUES || u.length < n || c.length < n || x.length < n || out.length < n) return null;
  return stepKernels();
}

/**
 * u, c and x into regions 0–2 (zeros after n up to `padded`), then the guided step into regions 3 (out) and 4
 * (x̂0); false when it saw a NaN.
 */
function stepInKernel(
  k: StepKernelExports,
  regions: readonly Float32Array[],
  padded: number,
  n: number,
  u: Float32Array,
  c: Float32Array,
  g: number,
  x: Float32Array,
  sa: number,
  sb: number,
  c1: number,
  c2: number,
  r: number,
): boolean {
  const [ru, rc, rx] = regions;
  ru.set(u.subarray(0, n));
  rc.set(c.subarray(0, n));
  rx.set(x.subarray(0, n));
  if (n < padded) {
    ru.fill(0, n);
    rc.fill(0, n);
    rx.fill(0, n);
  }
  const clip = r === Infinity ? 0 : 1;
  const b = padded * 4;
  return k.guidedStep(0, b, 2 * b, 3 * b, 4 * b, padded, g, sa, sb, c1, c2, Math.fround(r), clip) === 0;
}
