import type { ApiIssue } from '@diffedit/core';

/** A request the API refuses: an HTTP status and every problem found (sent as `{ errors }`). */
export class ApiProblem extends Error {
  readonly issues: ApiIssue[];

  constructor(
    readonly status: number,
    issues: ApiIssue | ApiIssue[],
  ) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(list.map((i) => i.message).join('; '));
    this.issues = list;
  }
}

/** A problem of the request as a whole (no node). */
export function problem(status: number, code: string, message: string, field?: string): ApiProblem {
  return new ApiProblem(status, { nodeId: null, code, message, ...(field !== undefined ? { field } : {}) });
}
