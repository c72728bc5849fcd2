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
 * DiffEdit's background blend after the step (diffEditBlend of `out` in place): the inverted latent
 * `background` under the `mask` plane, the same plane for each of the x0.length / mask.length channels.
 */
export interface KernelBlend {
  readonly mask: Float32Array;
  readonly background: Float32Array;
}

/**
 * guidedEpsilonStep's loop (clip range r ≥ 0 or Infinity) in the kernel, then `blend` when given, before
 * anything is copied back: u, c, x copied in, out and x0 copied back. Returns false, having written nothing,
 * when it cannot: no kernel, too few values, a NaN in o, x̂0 or the blend (whose payload the JavaScript loop
 * decides), or a blend plane of odd length; the caller then runs the JavaScript.
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
  blend?: KernelBlend,
): boolean {
  const n = x0.length;
  if (n < WASM_STEP_MIN_VALUES || u.length < n || c.length < n || x.length < n || out.length < n)
    return false;
  const plane = blend?.mask.length ?? 0;
  if (blend !== undefined && (plane % 2 !== 0 || n % plane !== 0 || blend.background.length < n))
    return false;
  const k = stepKernels();
  if (k === null) return false;
  // an even count in 8-byte-aligned regions (the kernel works two values a time); the pad value is zero
  const padded = (n + 3) & ~3;
  const [ru, rc, rx, rout, rx0, rmask, rbg] = regionViews(k, padded);
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
  if (k.guidedStep(0, b, 2 * b, 3 * b, 4 * b, padded, g, sa, sb, c1, c2, Math.fround(r), clip) !== 0)
    return false;
  if (blend !== undefined) {
    // n values in planes of an even length: the blend's pairs stay within them
    rmask.set(blend.mask);
    rbg.set(blend.background.subarray(0, n));
    if (k.blend(3 * b, 5 * b, 6 * b, plane, n / plane) !== 0) return false;
  }
  out.set(rout.subarray(0, n));
  x0.set(rx0.subarray(0, n));
  return true;
}
