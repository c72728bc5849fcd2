// The decoded image and its display bytes in WebAssembly (image-kernels.wat), with the JavaScript loops' bits:
// one pass over the VAE decoder's output instead of two JavaScript loops and their reads back (measured on a
// 3×256² image in the model worker: see docs/performance.md). The JavaScript stays for engines without
// WebAssembly SIMD and for NaNs.
import { ensureBytes, lazyKernels } from './instance.js';
import type { KernelMemory } from './instance.js';
import { IMAGE_KERNELS_BASE64 } from './image-kernels-binary.js';

interface ImageKernelExports {
  readonly memory: KernelMemory;
  decodedToImage(src: number, image: number, bytes: number, n: number): number;
}

/** Values a call converts at a time: the kernel's memory stays ~600 KiB, and each chunk in the caches. */
const CHUNK_VALUES = 1 << 16;

const imageKernels = lazyKernels<ImageKernelExports>(IMAGE_KERNELS_BASE64);

/** Whether this engine runs the kernels (the tests check that they are not silently skipped). */
export function imageKernelsAvailable(): boolean {
  return imageKernels() !== null;
}

/**
 * modelRangeToImage of `decoded` into `image` (which may be `decoded`) and displayBytesOf it into `bytes`, a chunk
 * at a time through the kernel's memory. Returns how many values from the start are done (image and bytes
 * written with the JavaScript's bits): all of them, or fewer when a chunk held a NaN (that chunk is not written;
 * the JavaScript decides NaN payloads, and an image with a NaN has no display bytes), 0 without the kernel.
 */
export function wasmDecodedToImage(decoded: Float32Array, image: Float32Array, bytes: Uint8Array): number {
  const n = decoded.length;
  if (image.length !== n || bytes.length !== n) return 0;
  const k = imageKernels();
  if (k === null) return 0;
  const chunk = Math.min(CHUNK_VALUES, (n + 3) & ~3);
  // src | image | bytes, the float regions 16-byte aligned
  ensureBytes(k.memory, chunk * 9);
  const buffer = k.memory.buffer;
  const src = new Float32Array(buffer, 0, chunk);
  const out = new Float32Array(buffer, chunk * 4, chunk);
  const outBytes = new Uint8Array(buffer, chunk * 8, chunk);
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    src.set(decoded.subarray(start, start + count));
    // a tail short of four values: the pad value is zero
    const quads = (count + 3) & ~3;
    src.fill(0, count, quads);
    if (k.decodedToImage(0, chunk * 4, chunk * 8, quads) !== 0) return start;
    image.set(out.subarray(0, count), start);
    bytes.set(outBytes.subarray(0, count), start);
  }
  return n;
}
