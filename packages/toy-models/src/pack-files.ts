import { mkdir, readFile, writeFile } from 'node:fs/promises';
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
    await writeFile(target, bytes);
    written.push(path);
  }
  return written;
}
