import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toyBlipPackFiles } from './blip/index.js';
import { TOY_PACK_VERSION } from './configs.js';
import { packJson, writeFileAtomic, writePackFiles } from './pack-io.js';
import { toySdPackFiles } from './sd-pack.js';
import { toyT5PackFiles } from './t5/index.js';

/** Folder names of the toy packs inside a models directory. */
export const TOY_PACK_FOLDERS = { sd: 'toy-sd', t5: 'toy-flan-t5', blip: 'toy-blip' } as const;

/** Written last by writeToyPack: says which generator produced the folders next to it. */
export const TOY_PACK_STAMP = 'toy-pack.json';

/**
 * Writes the whole toy world into `modelsDir`: toy-sd/ (Stable Diffusion), toy-flan-t5/ and toy-blip/.
 * Everything is generated from source (nothing is downloaded or committed); the same code gives the same bytes.
 */
export async function writeToyPack(modelsDir: string): Promise<void> {
  await writeFilesAndStamp(modelsDir, toyPackFiles());
}

/**
 * Makes sure `modelsDir` holds the toy packs of this version of the code: regenerates them when the stamp is
 * missing or was written by a different generator (pack version or any pack's bytes changed). Returns true if it wrote.
 */
export async function ensureToyPack(modelsDir: string): Promise<boolean> {
  return toyPackErrors(modelsDir, async () => {
    const files = toyPackFiles();
    const stamp = packJson(toyPackStamp(files));
    const stampPath = join(modelsDir, TOY_PACK_STAMP);
    // Every file is compared with the bytes this code generates (about 115 kB in all), not only the stamp: a
    // file damaged on disk (truncated, overwritten) is written again. An up-to-date pack is not touched, so
    // a read-only models folder that holds one works.
    const written = await writePackFiles(modelsDir, files);
    const current = await readFile(stampPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EISDIR') throw new Error(`${stampPath} is a folder, not the toy pack's stamp file`);
      return undefined;
    });
    if (written.length === 0 && current !== undefined && Buffer.from(stamp).equals(current)) return false;
    await writeFileAtomic(stampPath, stamp);
    return true;
  });
}

/** Writes the packs' files, then the stamp that names them. */
async function writeFilesAndStamp(modelsDir: string, files: Map<string, Uint8Array>): Promise<void> {
  await toyPackErrors(modelsDir, async () => {
    await writePackFiles(modelsDir, files);
    await mkdir(modelsDir, { recursive: true });
    await writeFileAtomic(join(modelsDir, TOY_PACK_STAMP), packJson(toyPackStamp(files)));
  });
}

/** A toy pack that cannot be written (read-only or full disk, a folder in the way); names the models folder. */
export class ToyPackError extends Error {
  readonly code = 'toy_pack_unwritable';
  constructor(
    readonly modelsDir: string,
    detail: string,
    cause?: unknown,
  ) {
    super(`cannot write the toy pack into ${modelsDir}: ${detail}`, { cause });
    this.name = 'ToyPackError';
  }
}

async function toyPackErrors<T>(modelsDir: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (error) {
    if (error instanceof ToyPackError) throw error;
    throw new ToyPackError(modelsDir, error instanceof Error ? error.message : String(error), error);
  }
}

/** Every file of the three packs, keyed by its path relative to the models directory. */
function toyPackFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const packs: [string, Map<string, Uint8Array>][] = [
    [TOY_PACK_FOLDERS.sd, toySdPackFiles()],
    [TOY_PACK_FOLDERS.t5, toyT5PackFiles()],
    [TOY_PACK_FOLDERS.blip, toyBlipPackFiles()],
  ];
  for (const [folder, pack] of packs) for (const [path, bytes] of pack) files.set(`${folder}/${path}`, bytes);
  return files;
}

function toyPackStamp(files: Map<string, Uint8Array>): { toyPackVersion: number; sha256: string } {
  const hash = createHash('sha256');
  for (const [path, bytes] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
    hash.update(path).update(bytes);
  return { toyPackVersion: TOY_PACK_VERSION, sha256: hash.digest('hex') };
}
