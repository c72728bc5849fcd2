// Instantiating core's WebAssembly kernels: their bytes come as base64 in generated modules (no .wasm file to
// locate or serve, in the runtime or in a bundle), compiled once per thread; null where the engine lacks
// WebAssembly or its SIMD, and the callers keep their JavaScript loops.

// The part of the WebAssembly API used here (core's libs have no DOM; every engine the project targets has it)
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: unknown };
};

export interface KernelMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

function decode(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * A getter of this thread's instance of a kernel module (compiled on first use; each thread has its own
 * memory), or null where the engine lacks WebAssembly SIMD.
 */
export function lazyKernels<T>(base64: string): () => T | null {
  let kernels: T | null | undefined;
  return () => {
    if (kernels === undefined) kernels = instantiateKernels<T>(base64);
    return kernels;
  };
}

/** The module's exports, or null when this engine cannot compile or instantiate it. */
export function instantiateKernels<T>(base64: string): T | null {
  try {
    return new WebAssembly.Instance(new WebAssembly.Module(decode(base64))).exports as T;
  } catch {
    return null;
  }
}

/** Grows `memory` to at least `bytes` (a grown memory has a new buffer: take views after this). */
export function ensureBytes(memory: KernelMemory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (have < bytes) memory.grow(Math.ceil((bytes - have) / 65536));
}
