/**
 * File ids of the server's data folder. One flat namespace serves uploads, run outputs and previews through
 * `GET /api/files/:fileId`. An id is also what goes into LoadImage's `image` / LoadMask's `mask` param: a value
 * without a slash is looked up among the server's files; `assets/NAME` names a shipped example image.
 */

/** What a stored file is. The id's prefix says it: `up_`, `out_` or `pv_`. */
export type FileKind = 'upload' | 'output' | 'preview';

export const FILE_ID_PREFIX: Readonly<Record<FileKind, string>> = {
  upload: 'up',
  output: 'out',
  preview: 'pv',
};

/** Image types the server accepts and serves (what LoadImage and LoadMask decode). */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'webp'] as const;
export type ImageExtension = (typeof IMAGE_EXTENSIONS)[number];

/**
 * `<prefix>_<32 hex>.<ext>`: no slash, no dot-dot, nothing a file system interprets. Output files that are not
 * images (JSON, text) use the `bin` extension and keep their name in the run's record.
 */
export const FILE_ID_PATTERN = /^(up|out|pv)_[0-9a-f]{32}\.(png|jpg|webp|bin)$/;

export function isFileId(value: string): boolean {
  return FILE_ID_PATTERN.test(value);
}

export function fileKindOf(fileId: string): FileKind | undefined {
  const match = FILE_ID_PATTERN.exec(fileId);
  if (!match) return undefined;
  return (Object.keys(FILE_ID_PREFIX) as FileKind[]).find((kind) => FILE_ID_PREFIX[kind] === match[1]);
}

/** The URL path the server serves a file id at. */
export function fileUrl(fileId: string): string {
  return `/api/files/${encodeURIComponent(fileId)}`;
}

/** Names of the shipped example images (`workflows/assets/NAME`) as image params: `assets/NAME`. */
export const ASSET_PARAM_PATTERN = /^assets\/[A-Za-z0-9][A-Za-z0-9_-]{0,99}\.(png|jpg|jpeg|webp)$/;

/** A shipped example image's NAME (what follows `assets/`). */
export const ASSET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}\.(png|jpg|jpeg|webp)$/;

/** The URL path the server serves a shipped example image at, from its param value `assets/NAME`. */
export function assetUrl(param: string): string | undefined {
  return ASSET_PARAM_PATTERN.test(param) ? `/api/${param}` : undefined;
}

/** Saved-workflow names: letters, digits, `_` and `-` (no dots, so no `..` and no extension games). */
export const WORKFLOW_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

export function isWorkflowName(value: string): boolean {
  return WORKFLOW_NAME_PATTERN.test(value);
}
