import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';

/** Expects each of `files` to hold the same bytes in folders `a` and `b`; returns their total size in `a`. */
export async function expectSameFiles(a: string, b: string, files: readonly string[]): Promise<number> {
  let total = 0;
  for (const f of files) {
    const [x, y] = await Promise.all([readFile(join(a, f)), readFile(join(b, f))]);
    expect(Buffer.compare(x, y), f).toBe(0);
    total += (await stat(join(a, f))).size;
  }
  return total;
}
