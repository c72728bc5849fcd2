// API shapes of the runtime server (issue 10). Replaced by the zod-inferred types of @diffedit/core's api module
// once the server branch lands them.
import type { RunError, ValidationIssue, Workflow } from '@diffedit/core';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface ModelInfo {
  name: string;
  role?: string;
  size?: number;
  loads?: boolean;
  provider?: string;
}

export interface UploadResult {
  fileId: string;
  width: number;
  height: number;
}

export interface RunOutput {
  nodeId: string;
  name: string;
  mime: string;
  url: string;
}

export interface RunNodeSummary {
  nodeId: string;
  nodeType: string;
  status: string;
  cacheKey?: string;
  ms?: number;
}

export interface RunSummary {
  runId: string;
  status: RunStatus;
  createdAt?: string | number;
  workflow?: Workflow;
  nodes?: RunNodeSummary[];
  outputs?: RunOutput[];
  error?: RunError;
  issues?: ValidationIssue[];
  fingerprints?: Record<string, Record<string, string>>;
}

export interface WorkflowListing {
  name: string;
  readOnly?: boolean;
  template?: boolean;
}
