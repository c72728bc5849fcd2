import { mkdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

import { ASSET_PARAM_PATTERN, fileKindOf } from '@diffedit/core';

/** Where the server keeps everything: one folder, created on start. */
export interface DataFolder {
  readonly root: string;
  /** Uploads, outputs and previews, each named by its file id (one flat folder). */
  readonly files: string;
  /** Saved workflows, `<name>.json`. */
  readonly workflows: string;
  readonly database: string;
}

export function openDataFolder(root: string): DataFolder {
  const abs = resolve(root);
  const folder = {
    root: abs,
    files: join(abs, 'files'),
    workflows: join(abs, 'workflows'),
    database: join(abs, 'diffedit.sqlite'),
  };
  for (const dir of [folder.root, folder.files, folder.workflows]) mkdirSync(dir, { recursive: true });
  return folder;
}

/** A name a client gave that may not be used: the message says why, for a 4xx. */
export class PathRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathRefusedError';
  }
}

/**
 * `folder/name`, refused unless it stays inside `folder` once symlinks are followed. The name is expected to
 * have passed its own pattern already (file id, workflow name); this is the second line of defence.
 */
export function confinedPath(folder: string, name: string, what: string): string {
  if (name.includes('\0')) throw new PathRefusedError(`${what} contains a NUL byte`);
  if (isAbsolute(name)) throw new PathRefusedError(`${what} must not be an absolute path`);
  const path = resolve(folder, name);
  if (!isInside(folder, path)) throw new PathRefusedError(`${what} '${name}' leads outside its folder`);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return path; // does not exist (yet): nothing to follow
  }
  if (!isInside(realpathSync(folder), real))
    throw new PathRefusedError(`${what} '${name}' is a link that leads outside its folder`);
  return path;
}

function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * The server's LoadImage/LoadMask resolver: a file id of an upload or an output (in the data folder), or
 * `assets/NAME` (a shipped example image). Anything else — paths, `..`, absolute names — is refused, so a
 * client cannot make the server read arbitrary files.
 */
export function createInputResolver(filesDir: string, assetsDir: string): (value: string) => string {
  return (value) => {
    const kind = fileKindOf(value);
    if (kind === 'upload' || kind === 'output') return confinedPath(filesDir, value, 'file id');
    if (ASSET_PARAM_PATTERN.test(value))
      return confinedPath(assetsDir, value.slice('assets/'.length), 'asset name');
    throw new PathRefusedError(
      value.trim() === ''
        ? 'no file chosen'
        : `'${truncate(value)}' is neither an uploaded file id (POST /api/uploads) nor assets/NAME: ` +
            'the server reads only its own files',
    );
  };
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
