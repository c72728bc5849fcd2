import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

import type { ApiIssue, RunAccepted, RunDetail, Upload } from '@diffedit/core';

/** A server that accepts a connection but never answers must not hang the batch. */
const REQUEST_TIMEOUT_MS = 120_000;

/** A refusal of the server (a 4xx/5xx with its `errors`), or a server that cannot be reached. */
export class ServerRequestError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly issues: ApiIssue[],
    message: string,
  ) {
    super(message);
    this.name = 'ServerRequestError';
  }
}

/**
 * The few calls of the public HTTP API (docs/api.md) a batch needs. Nothing else: so a batch runs unchanged
 * against any `diffedit serve`, with or without a queue behind it.
 */
export class ServerClient {
  readonly base: string;

  constructor(
    url: string,
    private readonly token: string | undefined,
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  /** The node catalog JSON (catalogFromJSON reads it). */
  nodes(): Promise<unknown> {
    return this.json('GET', '/api/nodes');
  }

  /** Uploads an image file; resolves to its file id. */
  async upload(path: string): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([await readFile(path)]), basename(path));
    const upload = (await this.json('POST', '/api/uploads', form)) as Upload;
    return upload.fileId;
  }

  submit(workflow: unknown, clientId: string): Promise<RunAccepted> {
    return this.json('POST', '/api/runs', { workflow, clientId }) as Promise<RunAccepted>;
  }

  run(runId: string): Promise<RunDetail> {
    return this.json('GET', `/api/runs/${encodeURIComponent(runId)}`) as Promise<RunDetail>;
  }

  async cancel(runId: string): Promise<void> {
    try {
      await this.json('DELETE', `/api/runs/${encodeURIComponent(runId)}`);
    } catch (error) {
      // 409: it had already finished, which is as good as cancelled for the caller
      if (!(error instanceof ServerRequestError && error.status === 409)) throw error;
    }
  }

  async file(fileId: string): Promise<Uint8Array> {
    const response = await this.request('GET', `/api/files/${encodeURIComponent(fileId)}`);
    return new Uint8Array(await response.arrayBuffer());
  }

  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await this.request(method, path, body);
    return (await response.json()) as unknown;
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    let payload: FormData | string | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: payload,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new ServerRequestError(
        undefined,
        [],
        `cannot reach the server at ${this.base}: ${cause ?? (error as Error).message}`,
      );
    }
    if (response.ok) return response;
    const text = await response.text();
    let issues: ApiIssue[] = [];
    try {
      const parsed = JSON.parse(text) as { errors?: ApiIssue[] };
      if (Array.isArray(parsed.errors)) issues = parsed.errors;
    } catch {
      // not the API's error shape (a proxy's page): the status says enough
    }
    const detail =
      issues.length > 0 ? issues.map((i) => `${i.message} [${i.code}]`).join('; ') : text.slice(0, 200);
    throw new ServerRequestError(
      response.status,
      issues,
      `${method} ${path}: the server answered ${response.status}${detail ? `: ${detail}` : ''}`,
    );
  }
}
