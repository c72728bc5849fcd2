import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toyBlipPackFiles } from './blip/index.js';
import { TOY_PACK_VERSION } from './configs.js';
import { packJson, writePackFiles } from './pack-files.js';
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
  const files = toyPackFiles();
  await writeFilesAndStamp(modelsDir, files, toyPackStamp(files, await toyGeneratorFingerprint()));
}

/**
 * Makes sure `modelsDir` holds the toy packs of this version of the code: regenerates them when the stamp is
 * missing or was written by a different generator (pack version or any pack's bytes changed). Returns true if it wrote.
 */
export async function ensureToyPack(modelsDir: string): Promise<boolean> {
  // The stamp names the generator's own source; when it matches, the packs are not generated at all (building
  // them in memory only to hash them took ~40 ms of every cold start).
  const generator = await toyGeneratorFingerprint();
  const current = await readStamp(modelsDir);
  if (current?.toyPackVersion === TOY_PACK_VERSION && current.generator === generator) return false;
  const files = toyPackFiles();
  const stamp = toyPackStamp(files, generator);
  if (current?.toyPackVersion === TOY_PACK_VERSION && current.sha256 === stamp.sha256) {
    await writeFile(join(modelsDir, TOY_PACK_STAMP), packJson(stamp)); // same bytes, new source: restamp
    return false;
  }
  await writeFilesAndStamp(modelsDir, files, stamp);
  return true;
}

interface ToyPackStamp {
  toyPackVersion: number;
  sha256: string;
  generator?: string;
}

async function readStamp(modelsDir: string): Promise<Partial<ToyPackStamp> | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(modelsDir, TOY_PACK_STAMP), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Partial<ToyPackStamp>) : undefined;
  } catch {
    return undefined;
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
  await writePackFiles(modelsDir, files);
  await mkdir(modelsDir, { recursive: true });
  await writeFile(join(modelsDir, TOY_PACK_STAMP), packJson(stamp));
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
  for (const [path, bytes] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
    hash.update(path).update(bytes);
  return { toyPackVersion: TOY_PACK_VERSION, sha256: hash.digest('hex'), generator };
}
