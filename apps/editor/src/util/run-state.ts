import type { FileRef, OutputPreview, RunDetail, RunError, RunStatus, ServerEvent } from '@diffedit/core';

/** What the canvas shows on one node during and after a run. */
export type NodeRunPhase = 'queued' | 'running' | 'cached' | 'done' | 'error' | 'cancelled';

export interface NodeWarning {
  code: string;
  message: string;
  field?: string;
}

export interface NodeRunState {
  phase: NodeRunPhase;
  step?: number;
  total?: number;
  /** Latest latent preview (URL or data URL). */
  preview?: string;
  /** Image files this node produced, as URLs. */
  images: string[];
  /** The preview of each IMAGE and MASK output, by output name. */
  outputs: Record<string, OutputPreview>;
  error?: RunError;
  warnings: NodeWarning[];
  cacheKey?: string;
}

export interface RunView {
  runId: string;
  status: RunStatus;
  nodes: Record<string, NodeRunState>;
  planned: string[];
  /** run:start's keys: every node the targets depend on, planned or not (a cached output covers the rest) */
  keys?: Record<string, string>;
  error?: RunError;
}

/** Every socket event the editor folds into a run view (the executor's `node:warning` included). */
export type EditorEvent = ServerEvent;

const blank = (phase: NodeRunPhase): NodeRunState => ({ phase, images: [], outputs: {}, warnings: [] });

const byOutput = (previews: readonly OutputPreview[] = []): Record<string, OutputPreview> =>
  Object.fromEntries(previews.map((p) => [p.output, p]));

const imageUrls = (files: readonly FileRef[]): string[] =>
  files.filter((f) => f.mime.startsWith('image/')).map((f) => f.url);

const PHASE_OF: Record<RunDetail['nodes'][number]['state'], NodeRunPhase> = {
  pending: 'queued',
  running: 'running',
  cached: 'cached',
  ran: 'done',
  failed: 'error',
  cancelled: 'cancelled',
};

/** A run as GET /api/runs/:id (or `run:state`) describes it, as the canvas shows it. */
export function viewFromDetail(run: RunDetail): RunView {
  const nodes: Record<string, NodeRunState> = {};
  for (const n of run.nodes) {
    nodes[n.nodeId] = {
      ...blank(PHASE_OF[n.state]),
      step: n.progress?.step,
      total: n.progress?.total,
      images: imageUrls(n.files),
      outputs: byOutput(n.previews),
      error: n.error,
      cacheKey: n.cacheKey,
    };
  }
  for (const w of run.warnings)
    nodes[w.nodeId]?.warnings.push({ code: w.code, message: w.message, field: w.field });
  if (run.error?.nodeId && nodes[run.error.nodeId] && !nodes[run.error.nodeId].error)
    nodes[run.error.nodeId].error = run.error;
  return {
    runId: run.runId,
    status: run.status,
    nodes,
    planned: run.nodes.map((n) => n.nodeId),
    error: run.error,
  };
}

/** Folds one server event into the run view (pure: returns a new view, or the same one if unaffected). */
export function applyEvent(view: RunView, event: EditorEvent): RunView {
  if (!('runId' in event) || event.runId !== view.runId) return view;
  const nodes = { ...view.nodes };
  const update = (id: string, patch: (s: NodeRunState) => NodeRunState): void => {
    nodes[id] = patch(nodes[id] ?? blank('queued'));
  };
  switch (event.type) {
    case 'run:state':
      return viewFromDetail(event.run);
    case 'run:queued':
      return { ...view, status: 'queued' };
    case 'run:start': {
      const cached = new Set(event.cached);
      for (const id of event.planned)
        nodes[id] = { ...blank(cached.has(id) ? 'cached' : 'queued'), cacheKey: event.keys[id] };
      return { ...view, status: 'running', planned: event.planned, keys: event.keys, nodes };
    }
    case 'node:cached':
      update(event.nodeId, (s) => ({
        ...s,
        phase: 'cached',
        cacheKey: event.cacheKey,
        images: imageUrls(event.artifacts),
      }));
      break;
    case 'node:preview':
      update(event.nodeId, (s) => ({
        ...s,
        outputs: { ...s.outputs, [event.preview.output]: event.preview },
      }));
      break;
    case 'node:start':
      update(event.nodeId, (s) => ({ ...s, phase: 'running', step: 0, total: undefined }));
      break;
    case 'node:progress':
      update(event.nodeId, (s) => ({
        ...s,
        phase: 'running',
        step: event.step,
        total: event.total,
        preview: event.preview?.url ?? s.preview,
      }));
      break;
    case 'node:done':
      update(event.nodeId, (s) => ({
        ...s,
        phase: 'done',
        step: s.total,
        images: imageUrls(event.artifacts),
      }));
      break;
    case 'node:error':
      update(event.nodeId, (s) => ({ ...s, phase: 'error', error: event.error }));
      break;
    case 'node:warning':
      update(event.nodeId, (s) => ({
        ...s,
        warnings: [...s.warnings, { code: event.code, message: event.message, field: event.field }],
      }));
      break;
    case 'run:done':
      return { ...view, status: 'succeeded', nodes };
    case 'run:failed':
      return { ...view, status: 'failed', error: event.error, nodes };
    case 'run:cancelled':
      for (const [id, s] of Object.entries(nodes))
        if (s.phase === 'queued' || s.phase === 'running') nodes[id] = { ...s, phase: 'cancelled' };
      return { ...view, status: 'cancelled', nodes };
    default:
      return view;
  }
  return { ...view, nodes };
}

/** Overall progress 0..1: finished nodes count whole, the running one by its step. */
export function overallProgress(view: RunView): number {
  if (view.status === 'succeeded') return 1;
  if (view.planned.length === 0) return 0;
  let sum = 0;
  for (const id of view.planned) {
    const s = view.nodes[id];
    if (!s) continue;
    if (s.phase === 'done' || s.phase === 'cached' || s.phase === 'error') sum += 1;
    else if (s.phase === 'running' && s.total) sum += (s.step ?? 0) / s.total;
  }
  return sum / view.planned.length;
}

/** The output previews the canvas shows, by node id then output name; they outlive the run that made them. */
export type PreviewMap = Record<string, Record<string, OutputPreview>>;

/**
 * Folds a run view into the previews shown on the canvas: a node's previews from this run replace those of
 * earlier runs (they arrive before the node finishes: once it has, exactly its own remain); nodes the run did
 * not reach keep theirs. Returns `previous` itself when nothing changed.
 */
export function collectPreviews(previous: PreviewMap, view: RunView | undefined): PreviewMap {
  if (!view) return previous;
  let next: PreviewMap | undefined;
  for (const [id, state] of Object.entries(view.nodes)) {
    const finished = state.phase === 'done' || state.phase === 'cached';
    if (!finished && Object.keys(state.outputs).length === 0) continue;
    const shown = finished ? state.outputs : { ...previous[id], ...state.outputs };
    if (previous[id] && samePreviews(previous[id], shown)) continue;
    (next ??= { ...previous })[id] = shown;
  }
  return next ?? previous;
}

function samePreviews(a: Record<string, OutputPreview>, b: Record<string, OutputPreview>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k].fileId === b[k]?.fileId);
}

/**
 * The nodes a finished run shows up to date, with the server's keys: those that ran or came from the cache
 * and, when the run succeeded and `live` is its view (the events were seen), every node its targets depend
 * on. A run whose output node came from the cache plans nothing upstream, yet running it again would not run
 * those nodes either: they are not stale.
 */
export function upToDateNodes(
  detail: RunDetail,
  live: RunView | undefined,
): { nodeId: string; cacheKey?: string }[] {
  const nodes: { nodeId: string; cacheKey?: string }[] = detail.nodes.filter(
    (n) => n.state === 'ran' || n.state === 'cached',
  );
  if (detail.status !== 'succeeded' || live?.runId !== detail.runId) return nodes;
  const listed = new Set(nodes.map((n) => n.nodeId));
  for (const [nodeId, cacheKey] of Object.entries(live.keys ?? {}))
    if (!listed.has(nodeId)) nodes.push({ nodeId, cacheKey });
  return nodes;
}
