import { existsSync, readdirSync, statSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { blipOnnxDir, BLIP_FILES } from './blip-model.js';
import { DIFFUSION_FILES } from './diffusion-model.js';
import { errorMessage, ModelError } from './model-errors.js';
import type { ModelErrorCode } from './model-errors.js';
import { exportSubdir, fileExists, readJsonFile, requireFile, stringField } from './model-files.js';
import { t5OnnxDir, T5_FILES } from './t5-model.js';

export type ModelRole = 'diffusion' | 't5' | 'blip';

/** One entry of the models listing (what `GET /models` will return). */
export interface ModelListing {
  readonly name: string;
  readonly folder: string;
  /** Detected from the files; undefined when the folder matches no known layout. */
  readonly role: ModelRole | undefined;
  readonly sizeBytes: number;
  /** True when every required file is present and parses (and, with `probe`, when the sessions open). */
  readonly loads: boolean;
  readonly error?: {
    readonly code: ModelErrorCode | 'unknown';
    readonly message: string;
    readonly file?: string;
  };
  /** Whether the model is loaded now, and on which execution provider each of its sessions runs. */
  readonly loaded: boolean;
  readonly providers?: Readonly<Record<string, string>>;
}

/** The role a folder's files say it has (no file is opened). */
export function detectRole(folder: string): ModelRole | undefined {
  if (fileExists(folder, 'model_index.json') || fileExists(folder, DIFFUSION_FILES.unet)) return 'diffusion';
  if (t5OnnxDir(folder) !== undefined) return 't5';
  if (blipOnnxDir(folder) !== undefined) return 'blip';
  // an incomplete export still says which it is
  const partial = exportSubdir(folder, (at) =>
    [T5_FILES.encoder, BLIP_FILES.vision, BLIP_FILES.decoder].some((file) => fileExists(at, file)),
  );
  if (partial === undefined) return undefined;
  return fileExists(join(folder, partial), T5_FILES.encoder) ? 't5' : 'blip';
}

/** Bytes of every file under a folder (weights included, e.g. model.onnx_data). */
export function folderSize(folder: string): number {
  let total = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) continue;
    total += stat.isDirectory() ? folderSize(path) : stat.size;
  }
  return total;
}

function requireTokenizer(folder: string, sub: string): void {
  const at = sub === '' ? folder : join(folder, sub);
  if (fileExists(at, 'tokenizer.json')) return;
  if (fileExists(at, 'vocab.json') && fileExists(at, 'merges.txt')) return;
  throw new ModelError(
    'model_file_missing',
    folder,
    sub === '' ? 'tokenizer.json' : `${sub}/tokenizer.json`,
    'missing tokenizer',
  );
}

/** The first missing file of an incomplete two-file export (under onnx/ when the folder has one). */
function missingExportFile(folder: string, first: string, second: string, what: string): ModelError {
  const at = existsSync(join(folder, 'onnx')) ? 'onnx/' : '';
  const file = fileExists(join(folder, at), first) ? second : first;
  return new ModelError('model_file_missing', folder, `${at}${file}`, `missing ${what} ONNX file`);
}

/**
 * Checks without opening sessions that a folder has the files its role needs and that its JSON files parse.
 * Throws a ModelError naming the folder and the first faulty file.
 */
export async function checkModelFiles(folder: string, role: ModelRole): Promise<void> {
  switch (role) {
    case 'diffusion': {
      for (const file of [
        DIFFUSION_FILES.textEncoder,
        DIFFUSION_FILES.unet,
        DIFFUSION_FILES.vaeEncoder,
        DIFFUSION_FILES.vaeDecoder,
      ]) {
        requireFile(folder, file, 'ONNX model');
      }
      await readJsonFile(folder, DIFFUSION_FILES.scheduler);
      if (fileExists(folder, 'model_index.json')) await readJsonFile(folder, 'model_index.json');
      requireTokenizer(folder, 'tokenizer');
      return;
    }
    case 't5': {
      if (t5OnnxDir(folder) === undefined) {
        throw missingExportFile(folder, T5_FILES.encoder, T5_FILES.decoder, 'T5');
      }
      const config = await readJsonFile(folder, 'config.json');
      const type = stringField(config, 'model_type');
      if (type !== undefined && type !== 't5' && type !== 'mt5') {
        throw new ModelError(
          'model_file_invalid',
          folder,
          'config.json',
          `model_type ${type} is not a T5 model`,
        );
      }
      requireTokenizer(folder, '');
      return;
    }
    case 'blip': {
      if (blipOnnxDir(folder) === undefined) {
        throw missingExportFile(folder, BLIP_FILES.vision, BLIP_FILES.decoder, 'BLIP');
      }
      requireTokenizer(folder, '');
      return;
    }
  }
}

export interface ScannedModel {
  readonly name: string;
  readonly folder: string;
  readonly role: ModelRole | undefined;
  readonly sizeBytes: number;
  readonly problem: ModelError | undefined;
}

const MODEL_FILE = /\.onnx$/;

/**
 * Whether a folder holds any model file: model_index.json, or an .onnx file in it or one level down (SD's
 * components, transformers.js' onnx/). Folders without one (scripts/, notes/) are not models at all.
 */
export function holdsModelFiles(folder: string): boolean {
  if (fileExists(folder, 'model_index.json')) return true;
  let entries: Dirent[];
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return true; // unreadable: listed, so that its problem is reported rather than hidden
  }
  const hasOnnx = (list: Dirent[]): boolean => list.some((e) => !e.isDirectory() && MODEL_FILE.test(e.name));
  if (hasOnnx(entries)) return true;
  return entries.some((e) => e.isDirectory() && hasOnnx(entriesOf(join(folder, e.name))));
}

/** A subfolder's entries; none when it cannot be read. */
function entriesOf(folder: string): Dirent[] {
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Every subfolder of the models folder that holds model files, with its role and a file-level check. */
export async function scanModelsFolder(modelsDir: string): Promise<ScannedModel[]> {
  if (!existsSync(modelsDir)) return [];
  const entries = readdirSync(modelsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() || (e.isSymbolicLink() && statSync(join(modelsDir, e.name)).isDirectory()))
    .map((e) => e.name)
    .sort();
  const out: ScannedModel[] = [];
  for (const name of entries) {
    const folder = join(modelsDir, name);
    const role = detectRole(folder);
    if (role === undefined && !holdsModelFiles(folder)) continue;
    let problem: ModelError | undefined;
    if (role === undefined) {
      problem = new ModelError(
        'model_role_unknown',
        folder,
        undefined,
        'not a known model layout (expected model_index.json + unet/model.onnx, encoder_model.onnx + decoder, or vision_model.onnx + text_decoder.onnx)',
      );
    } else {
      try {
        await checkModelFiles(folder, role);
      } catch (error) {
        problem =
          error instanceof ModelError
            ? error
            : new ModelError('model_file_invalid', folder, undefined, errorMessage(error), error);
      }
    }
    out.push({ name, folder, role, sizeBytes: folderSize(folder), problem });
  }
  return out;
}
