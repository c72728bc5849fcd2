import { createHash, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import sharp from 'sharp';

import { FILE_ID_PREFIX, fileUrl } from '@diffedit/core';
import type {
  FileKind,
  FileRef,
  NodeArtifact,
  OutputPreview,
  ProgressPreview,
  Upload,
  WirePreview,
} from '@diffedit/core';

import { confinedPath } from './data-folder.js';
import type { DataFolder } from './data-folder.js';
import type { WorkerOutputPreview } from './run-worker-protocol.js';
import type { FileRecord, ServerStore } from './store.js';

const EXTENSION_OF_MIME: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
};
const MIME_OF_FORMAT: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** Previews up to this size travel inside the event as a data: URL; larger ones are stored as files. */
const INLINE_PREVIEW_BYTES = 256 * 1024;

/** Why an upload was refused, with the HTTP status that says so. */
export class UploadRejectedError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Stores and finds the server's files (uploads, outputs, previews) by file id in the data folder. */
export class FileStore {
  constructor(
    private readonly data: DataFolder,
    private readonly store: ServerStore,
    private readonly limits: { uploadPixels: number },
  ) {}

  /**
   * Stores a run's output synchronously, so that the node:done event that follows can name a URL that already
   * serves it. The id is derived from run, node and name: the same file of the same run keeps its id.
   */
  storeOutput(runId: string, artifact: NodeArtifact): FileRef {
    const digest = createHash('sha256')
      .update(`${runId}\0${artifact.nodeId}\0${artifact.name}`)
      .digest('hex');
    const id = `${FILE_ID_PREFIX.output}_${digest.slice(0, 32)}.${EXTENSION_OF_MIME[artifact.mime] ?? 'bin'}`;
    writeFileSync(join(this.data.files, id), artifact.bytes);
    this.record({
      id,
      kind: 'output',
      name: artifact.name,
      mime: artifact.mime,
      size: artifact.bytes.byteLength,
      runId,
      nodeId: artifact.nodeId,
      width: null,
      height: null,
      createdAt: Date.now(),
    });
    return {
      name: artifact.name,
      mime: artifact.mime,
      size: artifact.bytes.byteLength,
      fileId: id,
      url: fileUrl(id),
    };
  }

  /**
   * Stores the preview PNG of a node's IMAGE/MASK output synchronously (the node's next event may name it). The
   * id is the content's hash: a cached node's identical preview in a later run is the same file, written once.
   */
  storeOutputPreview(runId: string, preview: WorkerOutputPreview): OutputPreview {
    const digest = createHash('sha256').update(preview.bytes).digest('hex');
    const id = `${FILE_ID_PREFIX.preview}_${digest.slice(0, 32)}.png`;
    if (!this.store.getFile(id) || !existsSync(join(this.data.files, id))) {
      writeFileSync(join(this.data.files, id), preview.bytes);
      this.record({
        id,
        kind: 'preview',
        name: `${preview.nodeId}-${preview.output}.png`,
        mime: 'image/png',
        size: preview.bytes.byteLength,
        runId,
        nodeId: preview.nodeId,
        width: preview.width,
        height: preview.height,
        createdAt: Date.now(),
      });
    }
    return {
      output: preview.output,
      socketType: preview.socketType,
      fileId: id,
      url: fileUrl(id),
      width: preview.width,
      height: preview.height,
      sourceWidth: preview.sourceWidth,
      sourceHeight: preview.sourceHeight,
      batch: preview.batch,
    };
  }

  /** A progress preview for the wire: inline when small, else a stored file. */
  preview(runId: string, nodeId: string, preview: ProgressPreview): WirePreview {
    const size = {
      ...(preview.width ? { width: preview.width } : {}),
      ...(preview.height ? { height: preview.height } : {}),
    };
    if (preview.bytes.byteLength <= INLINE_PREVIEW_BYTES) {
      const base64 = Buffer.from(
        preview.bytes.buffer,
        preview.bytes.byteOffset,
        preview.bytes.byteLength,
      ).toString('base64');
      return { mime: preview.mime, ...size, url: `data:${preview.mime};base64,${base64}` };
    }
    const id = this.newId('preview', EXTENSION_OF_MIME[preview.mime] ?? 'bin');
    writeFileSync(join(this.data.files, id), preview.bytes);
    this.record({
      id,
      kind: 'preview',
      name: `${nodeId}-preview`,
      mime: preview.mime,
      size: preview.bytes.byteLength,
      runId,
      nodeId,
      width: preview.width ?? null,
      height: preview.height ?? null,
      createdAt: Date.now(),
    });
    return { mime: preview.mime, ...size, url: fileUrl(id) };
  }

  /**
   * Stores an uploaded image after reading it whole: the type comes from the bytes (PNG, JPEG, WebP — what
   * LoadImage and LoadMask decode), never from the name, and the pixel count is bounded before decoding.
   */
  async storeUpload(bytes: Buffer, originalName: string): Promise<Upload> {
    let format: string | undefined;
    let width: number | undefined;
    let height: number | undefined;
    try {
      ({ format, width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
    } catch {
      throw new UploadRejectedError(
        415,
        'unsupported_media_type',
        'the file is not an image (PNG, JPEG or WebP)',
      );
    }
    const mime = format ? MIME_OF_FORMAT[format] : undefined;
    if (!mime || !width || !height)
      throw new UploadRejectedError(
        415,
        'unsupported_media_type',
        `the file is ${format ? `a ${format} image` : 'not an image'}; LoadImage reads PNG, JPEG and WebP`,
      );
    if (width * height > this.limits.uploadPixels)
      throw new UploadRejectedError(
        413,
        'too_many_pixels',
        `the image has ${width}×${height} = ${width * height} pixels; the limit is ${this.limits.uploadPixels}`,
      );
    try {
      // Decode it all once: a truncated or corrupt file is refused now, not when a run reads it.
      await sharp(bytes, { limitInputPixels: this.limits.uploadPixels }).raw().toBuffer();
    } catch (error) {
      throw new UploadRejectedError(
        400,
        'invalid_image',
        `the image cannot be decoded: ${(error as Error).message}`,
      );
    }
    const id = this.newId('upload', EXTENSION_OF_MIME[mime]);
    await writeFile(join(this.data.files, id), bytes);
    this.record({
      id,
      kind: 'upload',
      name: originalName.slice(0, 200),
      mime,
      size: bytes.byteLength,
      runId: null,
      nodeId: null,
      width,
      height,
      createdAt: Date.now(),
    });
    return { fileId: id, width, height, mime, size: bytes.byteLength, url: fileUrl(id) };
  }

  /** The record and confined path of a stored file, or undefined. */
  find(id: string): { record: FileRecord; path: string } | undefined {
    const record = this.store.getFile(id);
    if (!record) return undefined;
    return { record, path: confinedPath(this.data.files, id, 'file id') };
  }

  private newId(kind: FileKind, extension: string): string {
    return `${FILE_ID_PREFIX[kind]}_${randomBytes(16).toString('hex')}.${extension}`;
  }

  private record(file: FileRecord): void {
    this.store.insertFile(file);
  }
}
