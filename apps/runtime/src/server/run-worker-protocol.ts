import type { CacheStats, NodeArtifact, RunEvent, RunResult } from '@diffedit/core';
import type { EncodedOutputPreview, ModelListing, PreviewSocketType, ProviderInfo } from '@diffedit/nodes';

/** What the run worker is started with (plain data: it crosses the thread boundary). */
export interface RunWorkerData {
  modelsDir?: string;
  providers?: string[];
  cacheBytes?: number;
  cacheVariants?: number;
  /** onnxruntime intra-op threads per model session (default: one per core). */
  threads?: number;
  /** The data folder's files (uploads, outputs) and the shipped example images: all LoadImage may read. */
  filesDir: string;
  assetsDir: string;
  /** URLs of ES modules whose `nodes` export adds node definitions to the catalog (tests, plug-ins). */
  nodeModules: string[];
}

/** A run's result as it crosses back: outputs stay in the worker (its cache), files came as artifact messages. */
export type WorkerRunResult = Omit<RunResult, 'outputs' | 'artifacts'>;

/** The preview PNG of one IMAGE or MASK output of a node, as the run's executor encoded it. */
export interface WorkerOutputPreview extends EncodedOutputPreview {
  nodeId: string;
  nodeType: string;
  output: string;
  socketType: PreviewSocketType;
}

export interface WorkerCalls {
  cacheStats(): CacheStats;
  clearCache(): CacheStats;
  providerInfo(): ProviderInfo;
  listModels(): ModelListing[];
  close(): void;
}
export type WorkerCall = keyof WorkerCalls;

export type ToWorker =
  | { type: 'run'; runId: string; workflow: unknown; targets?: string[] }
  | { type: 'cancel'; runId: string }
  | { type: 'call'; id: number; method: WorkerCall };

export type FromWorker =
  | { type: 'event'; runId: string; event: RunEvent }
  | { type: 'artifact'; runId: string; artifact: NodeArtifact }
  /** Sent before the node:done / node:cached event of its node. */
  | { type: 'preview'; runId: string; preview: WorkerOutputPreview }
  | { type: 'result'; runId: string; result: WorkerRunResult }
  | { type: 'crashed'; runId: string; message: string }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; message: string }
  | { type: 'log'; line: string };
