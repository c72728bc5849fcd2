import type { RunDetail } from '@diffedit/core';

import { ApiError, api } from './client.js';
import { clientId, connectEvents, subscribeRun } from './socket.js';
import { currentWorkflow, useEditor } from '../store/editor.js';
import { upToDateNodes, viewFromDetail } from '../util/run-state.js';
import type { EditorEvent } from '../util/run-state.js';

const ACTIVE_RUN = 'diffedit.activeRun';
/** The run the canvas shows (its states and previews come back after a reload). */
const SHOWN_RUN = 'diffedit.shownRun';
const RUN_END = new Set(['run:done', 'run:failed', 'run:cancelled']);

export const runsChanged = (): boolean => window.dispatchEvent(new Event('diffedit:runs-changed'));

/** After a run ends: its keys and fingerprints tell the browser which nodes are up to date. */
async function learnFrom(runId: string): Promise<void> {
  try {
    const run = await api.run(runId);
    const store = useEditor.getState();
    store.learnRun(upToDateNodes(run, store.run), run.fingerprints);
    if (store.run?.runId === runId) {
      // Keep the live previews; take states and files from the server's record.
      const detail = viewFromDetail(run);
      const nodes = { ...detail.nodes };
      for (const [id, live] of Object.entries(store.run.nodes))
        if (nodes[id])
          nodes[id] = {
            ...nodes[id],
            preview: live.preview,
            warnings: nodes[id].warnings.length ? nodes[id].warnings : live.warnings,
          };
      store.setRunView({ ...detail, nodes });
    }
  } catch {
    // The run view stays as the events left it.
  }
  runsChanged();
}

function onEvent(event: EditorEvent): void {
  useEditor.getState().applyServerEvent(event);
  if (RUN_END.has(event.type) && 'runId' in event && useEditor.getState().run?.runId === event.runId) {
    localStorage.removeItem(ACTIVE_RUN);
    void learnFrom(event.runId);
  }
}

export function startEvents(): void {
  connectEvents(onEvent, runsChanged);
}

/** Submits the canvas (or the part `targets` need); problems are shown on their nodes and in a notice. */
export async function runWorkflow(targets?: string[]): Promise<void> {
  const store = useEditor.getState();
  try {
    const { runId } = await api.submit(currentWorkflow(), clientId(), targets);
    store.startRun(runId);
    localStorage.setItem(ACTIVE_RUN, runId);
    localStorage.setItem(SHOWN_RUN, runId);
    subscribeRun(runId);
    runsChanged();
  } catch (error) {
    const issues = error instanceof ApiError ? error.issues : [];
    const text = issues.length
      ? issues
          .map((i) => (i.nodeId ? `${i.nodeId}${i.field ? `.${i.field}` : ''}: ${i.message}` : i.message))
          .join('; ')
      : (error as Error).message;
    store.notify('error', `Run refused: ${text}`);
  }
}

export async function cancelRun(runId: string): Promise<void> {
  try {
    await api.cancel(runId);
  } catch (error) {
    useEditor.getState().notify('error', `Cancel failed: ${(error as Error).message}`);
  }
}

/** Whether a run was made from the open canvas (every node it names is there, with the same type). */
function runMatchesCanvas(run: RunDetail): boolean {
  const types = new Map(useEditor.getState().doc.nodes.map((n) => [n.id, n.data.type]));
  return run.nodes.length > 0 && run.nodes.every((n) => types.get(n.nodeId) === n.nodeType);
}

/** After a reload: show the run that was going on and follow it to its end, or the last run shown. */
export async function resumeRun(): Promise<void> {
  const runId = localStorage.getItem(ACTIVE_RUN);
  if (!runId) return showLastRun();
  try {
    const run = await api.run(runId);
    useEditor.setState({ submittedKeys: useEditor.getState().keys });
    useEditor.getState().setRunView(viewFromDetail(run));
    if (run.status === 'queued' || run.status === 'running') subscribeRun(runId);
    else {
      localStorage.removeItem(ACTIVE_RUN);
      await learnFrom(runId);
    }
  } catch {
    localStorage.removeItem(ACTIVE_RUN);
  }
}

async function showLastRun(): Promise<void> {
  const runId = localStorage.getItem(SHOWN_RUN);
  if (!runId) return;
  try {
    const run = await api.run(runId);
    if (!runMatchesCanvas(run)) return;
    // The canvas may have been edited since that run: learn only the server's keys (with its fingerprints the
    // browser computes the same ones), never the canvas's current keys as if the run had made them.
    useEditor.setState({ submittedKeys: new Map() });
    useEditor.getState().setRunView(viewFromDetail(run));
    await learnFrom(runId);
  } catch {
    localStorage.removeItem(SHOWN_RUN);
  }
}

/** Shows a past run on the canvas (states, outputs) and learns its keys. */
export async function showRun(runId: string): Promise<void> {
  const run = await api.run(runId);
  localStorage.setItem(SHOWN_RUN, runId);
  useEditor.setState({ submittedKeys: useEditor.getState().keys });
  useEditor.getState().setRunView(viewFromDetail(run));
  await learnFrom(runId);
}

/** Uploads an image and puts its file id into a node's file param (LoadImage's image, LoadMask's mask). */
export async function uploadToParam(nodeId: string, param: string, file: File): Promise<boolean> {
  const store = useEditor.getState();
  try {
    const { fileId } = await api.upload(file);
    store.setParam(nodeId, param, fileId);
    store.endEdit();
    return true;
  } catch (error) {
    store.notify('error', `Upload of ${file.name} failed: ${(error as Error).message}`);
    return false;
  }
}
