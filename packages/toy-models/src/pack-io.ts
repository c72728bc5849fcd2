import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** A pack's JSON file: two-space indented, newline at the end (as transformers and diffusers write them). */
export function packJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Writes `files` under `dir`, skipping files whose bytes on disk are already equal (so an up-to-date pack is
 * left untouched). Returns the paths written.
 */
export async function writePackFiles(dir: string, files: Map<string, Uint8Array>): Promise<string[]> {
  const written: string[] = [];
  for (const [path, bytes] of files) {
    const target = join(dir, ...path.split('/'));
    const current = await readFile(target).catch(() => undefined);
    if (current && Buffer.from(bytes).equals(current)) continue;
    await mkdir(dirname(target), { recursive: true });
    await writeFileAtomic(target, bytes);
    written.push(path);
  }
  return written;
}

/** Writes under a temporary name next to `path`, then renames: a failed write never leaves a partial file. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}-${Math.random().toString(36).slice(2, 10)}.partial`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw error;
  }
}
