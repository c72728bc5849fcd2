import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toyBlipPackFiles } from './blip/index.js';
import { TOY_PACK_VERSION } from './configs.js';
import { packJson, writeFileAtomic, writePackFiles } from './pack-io.js';
import { benchSdPackFiles, toySdPackFiles } from './sd-pack.js';
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
  const files = toyPackFiles();
  await writeFilesAndStamp(modelsDir, files, toyPackStamp(files, await toyGeneratorFingerprint()));
}

/**
 * Makes sure `modelsDir` holds the toy packs of this version of the code: regenerates them when the stamp is
 * missing or was written by a different generator (pack version or any pack's bytes changed). Returns true if it wrote.
 */
export async function ensureToyPack(modelsDir: string): Promise<boolean> {
  return ensureStampedFiles(modelsDir, TOY_PACK_STAMP, toyPackFiles);
}

/** Written by ensureBenchSdPack inside the bench pack's folder. */
export const BENCH_PACK_STAMP = 'bench-pack.json';

/**
 * Makes sure `folder` holds the bench SD pack of this code (benchSdPackFiles: the toy SD pack with the bench
 * UNet), like ensureToyPack: an up-to-date pack is checked against its stamp (read and hashed, ~6 MB) instead
 * of generated (the bench UNet's weights take 100–300 ms to build). Returns true if it wrote.
 */
export async function ensureBenchSdPack(folder: string): Promise<boolean> {
  return ensureStampedFiles(folder, BENCH_PACK_STAMP, benchSdPackFiles);
}

/**
 * Makes sure `dir` holds the files `generate` makes, with a stamp naming this generator: regenerates them when
 * the stamp is missing or was written by a different generator (pack version or any file's bytes changed).
 * Returns true if it wrote.
 */
async function ensureStampedFiles(
  dir: string,
  stampName: string,
  generate: () => Map<string, Uint8Array>,
): Promise<boolean> {
  return toyPackErrors(dir, async () => {
    // Fast path: a stamp written by this very generator whose per-file hashes match the files on disk needs no
    // generating (building the three toy packs in memory took ~40 ms of every cold start).
    const generator = await toyGeneratorFingerprint();
    if (await packMatchesStamp(dir, stampName, generator)) return false;
    const files = generate();
    const stamp = packJson(toyPackStamp(files, generator));
    const stampPath = join(dir, stampName);
    // Every file is compared with the bytes this code generates, not only the stamp: a file damaged on disk
    // (truncated, overwritten) is written again. An up-to-date pack is not touched, so a read-only models
    // folder that holds one works.
    const written = await writePackFiles(dir, files);
    const current = await readFile(stampPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EISDIR') throw new Error(`${stampPath} is a folder, not the pack's stamp file`);
      return undefined;
    });
    if (written.length === 0 && current !== undefined && Buffer.from(stamp).equals(current)) return false;
    await writeFileAtomic(stampPath, stamp);
    return true;
  });
}

interface ToyPackStamp {
  toyPackVersion: number;
  sha256: string;
  /** toyGeneratorFingerprint() of the code that wrote the packs */
  generator: string;
  /** sha256 of each file, by path relative to the models folder */
  files: Record<string, string>;
}

/** Whether the stamp names this generator and every file it lists is on disk with the hash it records. */
async function packMatchesStamp(dir: string, stampName: string, generator: string): Promise<boolean> {
  try {
    const stamp = JSON.parse(await readFile(join(dir, stampName), 'utf8')) as Partial<ToyPackStamp>;
    if (stamp.toyPackVersion !== TOY_PACK_VERSION || stamp.generator !== generator) return false;
    const listed = Object.entries(stamp.files ?? {});
    if (listed.length === 0) return false;
    for (const [path, sha] of listed) {
      const bytes = await readFile(join(dir, path));
      if (createHash('sha256').update(bytes).digest('hex') !== sha) return false;
    }
    return true;
  } catch {
    return false;
  }
}

let fingerprint: Promise<string> | undefined;

/**
 * sha256 of this package's own module files (the compiled .js in dist/, or the .ts sources when run from
 * source): any change to the generator changes it. Computed once per process.
 */
export function toyGeneratorFingerprint(): Promise<string> {
  fingerprint ??= (async () => {
    const root = dirname(fileURLToPath(import.meta.url));
    const paths: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (/\.(js|ts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) paths.push(path);
      }
    };
    await walk(root);
    const hash = createHash('sha256').update(String(TOY_PACK_VERSION));
    for (const path of paths.sort()) hash.update(relative(root, path)).update(await readFile(path));
    return hash.digest('hex');
  })();
  return fingerprint;
}

/** Writes the packs' files, then the stamp that names them. */
async function writeFilesAndStamp(
  modelsDir: string,
  files: Map<string, Uint8Array>,
  stamp: ToyPackStamp,
): Promise<void> {
  await toyPackErrors(modelsDir, async () => {
    await writePackFiles(modelsDir, files);
    await mkdir(modelsDir, { recursive: true });
    await writeFileAtomic(join(modelsDir, TOY_PACK_STAMP), packJson(stamp));
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

function toyPackStamp(files: Map<string, Uint8Array>, generator: string): ToyPackStamp {
  const hash = createHash('sha256');
  const perFile: Record<string, string> = {};
  for (const [path, bytes] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    hash.update(path).update(bytes);
    perFile[path] = createHash('sha256').update(bytes).digest('hex');
  }
  return { toyPackVersion: TOY_PACK_VERSION, sha256: hash.digest('hex'), generator, files: perFile };
}
