import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, ModelError } from './model-errors.js';

export type JsonObject = Record<string, unknown>;

export function fileExists(folder: string, file: string): boolean {
  const path = join(folder, file);
  return existsSync(path) && statSync(path).isFile();
}

/** Where an export keeps its ONNX files: '' (the folder itself) or 'onnx', the first for which `has` holds. */
export function exportSubdir(folder: string, has: (at: string) => boolean): '' | 'onnx' | undefined {
  for (const dir of ['', 'onnx'] as const) if (has(join(folder, dir))) return dir;
  return undefined;
}

/** The path of a required file, or a ModelError naming the folder and the file. */
export function requireFile(folder: string, file: string, what: string): string {
  if (!fileExists(folder, file)) {
    throw new ModelError('model_file_missing', folder, file, `missing ${what}`);
  }
  return join(folder, file);
}

/** Parses a JSON object file; errors name the folder and the file. */
export async function readJsonFile(folder: string, file: string): Promise<JsonObject> {
  const path = requireFile(folder, file, 'JSON file');
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ModelError(
      'model_file_invalid',
      folder,
      file,
      `not valid JSON (${errorMessage(error)})`,
      error,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelError('model_file_invalid', folder, file, 'expected a JSON object');
  }
  return value as JsonObject;
}

export async function readOptionalJson(folder: string, file: string): Promise<JsonObject | undefined> {
  return fileExists(folder, file) ? readJsonFile(folder, file) : undefined;
}

export function numberField(obj: JsonObject | undefined, key: string): number | undefined {
  const v = obj?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function stringField(obj: JsonObject | undefined, key: string): string | undefined {
  const v = obj?.[key];
  return typeof v === 'string' ? v : undefined;
}

/** A token given either as a string or as an AddedToken object ({ content }), as tokenizer configs do. */
export function tokenField(obj: JsonObject | undefined, key: string): string | undefined {
  const v = obj?.[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as JsonObject).content === 'string') {
    return (v as JsonObject).content as string;
  }
  return undefined;
}

/** An id that configs give as a number or as a one-element list (generation_config eos_token_id). */
export function idListField(obj: JsonObject | undefined, key: string): number[] | undefined {
  const v = obj?.[key];
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  return undefined;
}
