import type { RunError } from '@diffedit/core';

/** What the canvas shows on one node during and after a run. */
export type NodeRunPhase = 'queued' | 'running' | 'cached' | 'done' | 'error' | 'cancelled';

export interface NodeRunState {
  phase: NodeRunPhase;
  step?: number;
  total?: number;
  /** Latest latent preview (URL or data URL). */
  preview?: string;
  /** Images this node produced (files it emitted, output previews), as URLs. */
  images: string[];
  error?: RunError;
  warnings: { code: string; message: string; field?: string }[];
  cacheKey?: string;
}

export interface RunView {
  runId: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  nodes: Record<string, NodeRunState>;
  planned: string[];
  error?: RunError;
}

/** A socket event of the server, as the editor reads it (fields beyond `type` are optional on purpose). */
export interface ServerEvent {
  type: string;
  runId: string;
  nodeId?: string;
  nodeType?: string;
  planned?: string[];
  cached?: string[];
  keys?: Record<string, string>;
  step?: number;
  total?: number;
  preview?: unknown;
  cacheKey?: string;
  artifacts?: { name: string; mime: string; url?: string }[];
  outputs?: unknown;
  error?: RunError;
  code?: string;
  field?: string;
  message?: string;
}

const blank = (phase: NodeRunPhase): NodeRunState => ({ phase, images: [], warnings: [] });

function previewUrl(preview: unknown): string | undefined {
  if (typeof preview === 'string') return preview;
  if (preview && typeof preview === 'object') {
    const p = preview as { url?: unknown; dataUrl?: unknown };
    if (typeof p.url === 'string') return p.url;
    if (typeof p.dataUrl === 'string') return p.dataUrl;
  }
  return undefined;
}

function imageUrls(event: ServerEvent, fileUrl: (runId: string, nodeId: string, name: string) => string): string[] {
  return (event.artifacts ?? [])
    .filter((a) => a.mime.startsWith('image/'))
    .map((a) => a.url ?? fileUrl(event.runId, event.nodeId ?? '', a.name));
}

/** Folds one server event into the run view (pure: returns a new view). */
export function applyEvent(
  view: RunView,
  event: ServerEvent,
  fileUrl: (runId: string, nodeId: string, name: string) => string,
): RunView {
  if (event.runId !== view.runId) return view;
  const nodes = { ...view.nodes };
  const id = event.nodeId;
  const node = id !== undefined ? (nodes[id] ?? blank('queued')) : undefined;
  switch (event.type) {
    case 'run:start': {
      const planned = event.planned ?? [];
      const cached = new Set(event.cached ?? []);
      for (const p of planned) nodes[p] = { ...blank(cached.has(p) ? 'cached' : 'queued'), cacheKey: event.keys?.[p] };
      return { ...view, status: 'running', planned, nodes };
    }
    case 'node:cached':
      if (id !== undefined && node) nodes[id] = { ...node, phase: 'cached', cacheKey: event.cacheKey ?? node.cacheKey, images: imageUrls(event, fileUrl) };
      return { ...view, nodes };
    case 'node:start':
      if (id !== undefined && node) nodes[id] = { ...node, phase: 'running', step: 0 };
      return { ...view, status: 'running', nodes };
    case 'node:progress':
      if (id !== undefined && node)
        nodes[id] = { ...node, phase: 'running', step: event.step, total: event.total, preview: previewUrl(event.preview) ?? node.preview };
      return { ...view, nodes };
    case 'node:done':
      if (id !== undefined && node)
        nodes[id] = { ...node, phase: 'done', step: node.total, cacheKey: event.cacheKey ?? node.cacheKey, images: imageUrls(event, fileUrl) };
      return { ...view, nodes };
    case 'node:error':
      if (id !== undefined && node) nodes[id] = { ...node, phase: 'error', error: event.error };
      return { ...view, nodes };
    case 'node:warning':
      if (id !== undefined && node)
        nodes[id] = { ...node, warnings: [...node.warnings, { code: event.code ?? 'warning', message: event.message ?? '', field: event.field }] };
      return { ...view, nodes };
    case 'run:done':
      return { ...view, status: 'succeeded' };
    case 'run:failed':
      return { ...view, status: 'failed', error: event.error };
    case 'run:cancelled':
      for (const [nid, s] of Object.entries(nodes)) if (s.phase === 'queued' || s.phase === 'running') nodes[nid] = { ...s, phase: 'cancelled' };
      return { ...view, status: 'cancelled', nodes };
    default:
      return view;
  }
}

/** Overall progress 0..1: finished nodes count whole, the running one by its step. */
export function overallProgress(view: RunView): number {
  if (view.planned.length === 0) return view.status === 'succeeded' ? 1 : 0;
  let sum = 0;
  for (const id of view.planned) {
    const s = view.nodes[id];
    if (!s) continue;
    if (s.phase === 'done' || s.phase === 'cached' || s.phase === 'error') sum += 1;
    else if (s.phase === 'running' && s.total) sum += (s.step ?? 0) / s.total;
  }
  return sum / view.planned.length;
}
