import { ApiError, api } from './client.js';
import { clientId, connectEvents, subscribeRun } from './socket.js';
import { currentWorkflow, useEditor } from '../store/editor.js';
import type { RunSummary } from './types.js';
import type { NodeRunState, RunView, ServerEvent } from '../util/run-state.js';

const ACTIVE_RUN = 'diffedit.activeRun';
const FINISHED = new Set(['run:done', 'run:failed', 'run:cancelled']);

const fileUrl = (runId: string, nodeId: string, name: string): string =>
  `/api/runs/${encodeURIComponent(runId)}/files/${encodeURIComponent(nodeId)}/${encodeURIComponent(name)}`;

/** What a finished run's summary says, as the canvas shows it. */
export function viewFromSummary(run: RunSummary): RunView {
  const nodes: Record<string, NodeRunState> = {};
  for (const n of run.nodes ?? []) {
    const phase = n.status === 'cached' ? 'cached' : n.status === 'ran' ? 'done' : n.status === 'failed' ? 'error' : n.status === 'cancelled' ? 'cancelled' : 'queued';
    nodes[n.nodeId] = { phase, images: [], warnings: [], cacheKey: n.cacheKey };
  }
  for (const o of run.outputs ?? []) if (o.mime.startsWith('image/')) nodes[o.nodeId]?.images.push(o.url);
  if (run.error?.nodeId && nodes[run.error.nodeId]) nodes[run.error.nodeId].error = run.error;
  return { runId: run.runId, status: run.status, nodes, planned: (run.nodes ?? []).map((n) => n.nodeId), error: run.error };
}

/** After a run ends: its keys and fingerprints tell the browser which nodes are up to date. */
async function learnFrom(runId: string): Promise<void> {
  try {
    const summary = await api.run(runId);
    const keys = (summary.nodes ?? []).filter((n) => n.status === 'ran' || n.status === 'cached').map((n) => n.cacheKey ?? '');
    useEditor.getState().learnRun(keys.filter((k) => k !== ''), summary.fingerprints);
    const view = useEditor.getState().run;
    // Keep live state (previews) but take the outputs' URLs from the summary.
    if (view?.runId === runId) {
      const fromSummary = viewFromSummary(summary);
      const nodes = { ...view.nodes };
      for (const [id, s] of Object.entries(fromSummary.nodes)) if (s.images.length > 0) nodes[id] = { ...(nodes[id] ?? s), images: s.images };
      useEditor.getState().setRunView({ ...view, status: summary.status, nodes });
    }
  } catch {
    // The run view stays as the events left it.
  }
  window.dispatchEvent(new Event('diffedit:runs-changed'));
}

function onEvent(event: ServerEvent): void {
  useEditor.getState().applyServerEvent(event, fileUrl);
  if (FINISHED.has(event.type) && useEditor.getState().run?.runId === event.runId) {
    localStorage.removeItem(ACTIVE_RUN);
    void learnFrom(event.runId);
  }
}

export function startEvents(): void {
  connectEvents(onEvent, () => window.dispatchEvent(new Event('diffedit:runs-changed')));
}

/** Submits the canvas (or the part needed by `targets`); validation errors land on their nodes. */
export async function runWorkflow(targets?: string[]): Promise<void> {
  const store = useEditor.getState();
  try {
    const { runId } = await api.submit(currentWorkflow(), clientId(), targets);
    store.startRun(runId);
    localStorage.setItem(ACTIVE_RUN, runId);
    subscribeRun(runId);
    window.dispatchEvent(new Event('diffedit:runs-changed'));
  } catch (error) {
    if (error instanceof ApiError && error.issues.length > 0) {
      store.notify('error', `The workflow is not valid: ${error.issues.map((i) => (i.nodeId ? `${i.nodeId}: ${i.message}` : i.message)).join('; ')}`);
    } else store.notify('error', `Run refused: ${(error as Error).message}`);
  }
}

export async function cancelRun(runId: string): Promise<void> {
  try {
    await api.cancel(runId);
  } catch (error) {
    useEditor.getState().notify('error', `Cancel failed: ${(error as Error).message}`);
  }
}

/** After a reload: show the run that was going on and follow it to its end. */
export async function resumeRun(): Promise<void> {
  const runId = localStorage.getItem(ACTIVE_RUN);
  if (!runId) return;
  try {
    const summary = await api.run(runId);
    useEditor.getState().setRunView(viewFromSummary(summary));
    if (summary.status === 'queued' || summary.status === 'running') subscribeRun(runId);
    else {
      localStorage.removeItem(ACTIVE_RUN);
      await learnFrom(runId);
    }
  } catch {
    localStorage.removeItem(ACTIVE_RUN);
  }
}

/** Opens a past run: its view and its keys. */
export async function showRun(runId: string): Promise<void> {
  const summary = await api.run(runId);
  useEditor.getState().setRunView(viewFromSummary(summary));
  await learnFrom(runId);
}
