import type { ValidationIssue } from '../workflow/issues.js';
import type { LogLevel, ProgressPreview } from './node-definition.js';

/** A file emitted by a node, without its bytes (those come with the run result). */
export interface ArtifactInfo {
  name: string;
  mime: string;
  size: number;
}

/** Why a run failed: the node (if any), its type, and a stable code. */
export interface RunError {
  nodeId: string | null;
  nodeType?: string;
  field?: string;
  code: string;
  message: string;
}

/** A warning raised by a node (ctx.warn) during a run, with the node that raised it. */
export interface RunWarning {
  nodeId: string;
  nodeType: string;
  code: string;
  field?: string;
  message: string;
}

interface EventBase {
  runId: string;
  /** Milliseconds since the epoch. */
  time: number;
}

interface NodeEventBase extends EventBase {
  nodeId: string;
  nodeType: string;
}

export type RunEvent =
  | (EventBase & {
      type: 'run:start';
      planned: string[];
      cached: string[];
      targets: string[];
      /** The cache key of every node the targets depend on (planned or not), by node id. */
      keys: Record<string, string>;
    })
  | (NodeEventBase & { type: 'node:cached'; cacheKey: string; artifacts: ArtifactInfo[] })
  | (NodeEventBase & { type: 'node:start' })
  | (NodeEventBase & { type: 'node:progress'; step: number; total: number; preview?: ProgressPreview })
  | (NodeEventBase & { type: 'node:log'; level: LogLevel; message: string })
  | (NodeEventBase & { type: 'node:warning'; code: string; field?: string; message: string })
  | (NodeEventBase & {
      type: 'node:done';
      cacheKey: string;
      ms: number;
      outputs: Record<string, string>;
      artifacts: ArtifactInfo[];
    })
  | (NodeEventBase & { type: 'node:error'; ms: number; error: RunError })
  | (EventBase & { type: 'run:done'; ms: number })
  | (EventBase & { type: 'run:failed'; ms: number; error: RunError; issues?: ValidationIssue[] })
  | (EventBase & { type: 'run:cancelled'; ms: number; nodeId: string | null });

export type RunEventType = RunEvent['type'];
export type RunEventListener = (event: RunEvent) => void;

/** describeValue of each of a node's outputs, by output name (node:done events, run reports). */
export function describeOutputs(outputs: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(outputs).map(([name, value]) => [name, describeValue(value)]));
}

/** A short human description of a value for events and reports (never the value itself). */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string')
    return value.length > 80 ? `${JSON.stringify(value.slice(0, 77))}…` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (ArrayBuffer.isView(value))
    return `${value.constructor.name}(${'length' in value ? String(value.length) : value.byteLength})`;
  if (Array.isArray(value)) {
    const head = value.slice(0, 3).map(describeValue).join(', ');
    return `[${head}${value.length > 3 ? `, … ${value.length} items` : ''}]`;
  }
  if (typeof value === 'object') {
    // Tensors (ours have `dims`, others `shape`) are summarised by their size.
    const { shape, dims } = value as { shape?: unknown; dims?: unknown };
    const size = Array.isArray(dims) ? dims : shape;
    const name =
      value.constructor?.name && value.constructor.name !== 'Object' ? value.constructor.name : 'object';
    if (Array.isArray(size)) return `${name}[${size.join('×')}]`;
    return name;
  }
  return typeof value;
}
