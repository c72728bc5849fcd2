import type {
  ApiIssue,
  ModelListing,
  RunAccepted,
  RunDetail,
  RunList,
  SerializedNodeDefinition,
  Upload,
  Workflow,
  WorkflowEntry,
} from '@diffedit/core';

import { authHeaders, reportUnauthorized } from './auth.js';

/** An HTTP error of the API, with the validation issues of a 400 when there are some. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues: ApiIssue[] = [],
  ) {
    super(message);
  }
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(authHeaders())) headers.set(name, value);
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401) reportUnauthorized();
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  if (!response.ok) {
    const b = (body ?? {}) as { errors?: ApiIssue[]; error?: unknown; message?: unknown };
    const issues = Array.isArray(b.errors) ? b.errors : [];
    const message =
      typeof b.message === 'string'
        ? b.message
        : typeof b.error === 'string'
          ? b.error
          : b.error && typeof (b.error as { message?: unknown }).message === 'string'
            ? (b.error as { message: string }).message
            : issues.length > 0
              ? issues.map((i) => i.message).join('; ')
              : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message, issues);
  }
  return body as T;
}

const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Takes `{ key: [...] }` or a bare array, whichever the route returns. */
function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const value = (body as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(value) ? (value as T[]) : [];
}

export const api = {
  nodes: async (): Promise<SerializedNodeDefinition[]> => listOf(await request('/api/nodes'), 'nodes'),
  models: async (): Promise<ModelListing[]> => listOf(await request('/api/models'), 'models'),
  submit: (workflow: Workflow, clientId: string, targets?: string[]) =>
    request<RunAccepted>('/api/runs', json('POST', { workflow, targets, clientId })),
  runs: (limit = 30) => request<RunList>(`/api/runs?limit=${limit}`),
  run: (runId: string) => request<RunDetail>(`/api/runs/${encodeURIComponent(runId)}`),
  cancel: (runId: string) => request<unknown>(`/api/runs/${encodeURIComponent(runId)}`, { method: 'DELETE' }),
  upload: (file: File) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return request<Upload>('/api/uploads', { method: 'POST', body: form });
  },
  fileUrl: (fileId: string) => `/api/files/${encodeURIComponent(fileId)}`,
  workflows: async (): Promise<WorkflowEntry[]> => listOf(await request('/api/workflows'), 'workflows'),
  loadWorkflow: (name: string) => request<unknown>(`/api/workflows/${encodeURIComponent(name)}`),
  saveWorkflow: (name: string, workflow: Workflow) =>
    request<unknown>(`/api/workflows/${encodeURIComponent(name)}`, json('PUT', workflow)),
  deleteWorkflow: (name: string) =>
    request<unknown>(`/api/workflows/${encodeURIComponent(name)}`, { method: 'DELETE' }),
};
