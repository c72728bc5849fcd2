import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

import type { ParamFingerprinter } from '@diffedit/core';

export interface FsFingerprinterOptions {
  /** Absolute path of a 'file' param value. */
  resolveFile(value: string): string;
  /** Absolute path (file or folder) of a 'model' param value. */
  resolveModel(value: string): string;
  /** Called before a model is fingerprinted, e.g. to generate a built-in model on first use. */
  prepareModel?(value: string): Promise<void>;
}

/**
 * Fingerprints file params by content (SHA-256, remembered while size and mtime stay the same) and model
 * params by path, size and mtime of every file under them — hashing gigabytes of weights on every run would
 * cost more than the cache saves.
 */
export function createFsFingerprinter(options: FsFingerprinterOptions): ParamFingerprinter {
  const contentHashes = new Map<string, { size: number; mtimeMs: number; hash: string }>();

  const hashFile = async (path: string, signal: AbortSignal): Promise<string> => {
    // synchronous, like describeTree's: one stat, and an unchanged file is not read again
    const info = statSync(path);
    if (!info.isFile()) throw new Error(`${path} is not a file`);
    const known = contentHashes.get(path);
    if (known && known.size === info.size && known.mtimeMs === info.mtimeMs) return known.hash;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer);
    const digest = `sha256:${hash.digest('hex')}`;
    contentHashes.set(path, { size: info.size, mtimeMs: info.mtimeMs, hash: digest });
    return digest;
  };

  // Synchronous on purpose: a model folder holds a few dozen files, ~5 µs a stat here, where each awaited stat
  // is a trip through libuv's thread pool (~0.1–0.3 ms of wall, one after the other: ~1.7 ms a run for the
  // bench model's 14 files, on the path of every run before its first node starts).
  const describeTree = (root: string): string => {
    const info = statSync(root);
    if (info.isFile()) return `${root}\t${info.size}\t${info.mtimeMs}`;
    const lines: string[] = [];
    const walk = (folder: string): void => {
      const entries = readdirSync(folder, { withFileTypes: true });
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile()) {
          const file = statSync(path);
          lines.push(`${relative(root, path)}\t${file.size}\t${file.mtimeMs}`);
        }
      }
    };
    walk(root);
    return `${root}\n${lines.join('\n')}`;
  };

  return async (kind, value, { signal }) => {
    if (kind === 'file') return hashFile(options.resolveFile(value), signal);
    await options.prepareModel?.(value);
    const tree = describeTree(options.resolveModel(value));
    return `tree:${createHash('sha256').update(tree).digest('hex')}`;
  };
}
