import type { ParamValue, ValidationIssue, Workflow } from '@diffedit/core';
import { applyEdgeChanges, applyNodeChanges } from '@xyflow/react';
import type { EdgeChange, NodeChange, XYPosition } from '@xyflow/react';
import { create } from 'zustand';

import type { EditorCatalog } from '../util/catalog.js';
import { copyFragment, pasteFragment } from '../util/clipboard.js';
import type { Fragment } from '../util/clipboard.js';
import { checkConnection } from '../util/connections.js';
import type { ConnectionRequest } from '../util/connections.js';
import { canvasToWorkflow, edgeId, freshNodeId, workflowToCanvas } from '../util/convert.js';
import type { CanvasDoc, FlowNode } from '../util/convert.js';
import { emptyHistory, endGroup, record, redo, undo } from '../util/history.js';
import type { History } from '../util/history.js';
import { canvasState, staleNodes } from '../util/keys.js';
import { applyEvent, collectPreviews } from '../util/run-state.js';
import type { EditorEvent, PreviewMap, RunView } from '../util/run-state.js';

export interface Notice {
  kind: 'info' | 'error';
  text: string;
  id: number;
}

export interface EditorState {
  catalog?: EditorCatalog;
  doc: CanvasDoc;
  history: History<Workflow>;
  clipboard?: Fragment;
  /** Validation issues of the current canvas, by node id ('' for document-level ones). */
  issues: Record<string, ValidationIssue[]>;
  /** Cache keys the browser computes for the canvas, and the nodes that would re-run. */
  keys: Map<string, string>;
  stale: Set<string>;
  /** Keys the server produced results for, and the fingerprints of the last run. */
  knownKeys: Set<string>;
  fingerprints: Record<string, Record<string, string>>;
  run?: RunView;
  /** Output previews on the canvas (from the last run that produced each node's). */
  previews: PreviewMap;
  /** The browser's keys of the canvas as it was submitted, by node (see learnRun). */
  submittedKeys: Map<string, string>;
  notice?: Notice;

  setCatalog(catalog: EditorCatalog): void;
  load(workflow: Workflow): void;
  onNodesChange(changes: NodeChange<FlowNode>[]): void;
  onEdgesChange(changes: EdgeChange[]): void;
  connect(request: ConnectionRequest): boolean;
  addNode(type: string, position: XYPosition): string;
  setParam(nodeId: string, name: string, value: ParamValue): void;
  setTitle(nodeId: string, title: string): void;
  setName(name: string): void;
  deleteSelection(): void;
  copy(): void;
  paste(offset?: XYPosition): void;
  duplicate(): void;
  groupSelection(title?: string): void;
  ungroup(groupId: string): void;
  undo(): void;
  redo(): void;
  /** Ends a grouped edit (a field lost focus, a drag stopped). */
  endEdit(): void;
  notify(kind: Notice['kind'], text: string): void;
  startRun(runId: string): void;
  applyServerEvent(event: EditorEvent): void;
  setRunView(view: RunView | undefined): void;
  /**
   * Records what a finished run produced: the server's keys of the nodes that ran or came from the cache, the
   * browser's keys those nodes had when submitted, and the run's fingerprints.
   */
  learnRun(
    nodes: Iterable<{ nodeId: string; cacheKey?: string }>,
    fingerprints?: Record<string, Record<string, string>>,
  ): void;
}

const emptyDoc = (): CanvasDoc => ({ name: 'Untitled', description: '', nodes: [], edges: [], groups: [] });

let noticeId = 0;

/** Recomputes what depends on the document: validation issues, browser cache keys, stale nodes. */
function derive(
  doc: CanvasDoc,
  catalog: EditorCatalog | undefined,
  knownKeys: Set<string>,
  fingerprints: Record<string, Record<string, string>>,
): Pick<EditorState, 'issues' | 'keys' | 'stale'> {
  if (!catalog) return { issues: {}, keys: new Map(), stale: new Set() };
  const { keys, issues: list } = canvasState(canvasToWorkflow(doc), catalog.specs, fingerprints);
  const issues: Record<string, ValidationIssue[]> = {};
  for (const issue of list) (issues[issue.nodeId ?? ''] ??= []).push(issue);
  return { issues, keys, stale: staleNodes(keys, knownKeys) };
}

export const useEditor = create<EditorState>()((set, get) => {
  /** Applies a document change, recording an undo step (grouped by `group`). */
  const change = (next: CanvasDoc, group?: string): void => {
    const state = get();
    const history = record(state.history, canvasToWorkflow(state.doc), group);
    set({ doc: next, history, ...derive(next, state.catalog, state.knownKeys, state.fingerprints) });
  };
  const selectedIds = (): Set<string> =>
    new Set(
      get()
        .doc.nodes.filter((n) => n.selected)
        .map((n) => n.id),
    );
  const restore = (workflow: Workflow): CanvasDoc => {
    const doc = workflowToCanvas(workflow, get().catalog);
    return doc;
  };

  return {
    doc: emptyDoc(),
    history: emptyHistory(),
    issues: {},
    keys: new Map(),
    stale: new Set(),
    knownKeys: new Set(),
    submittedKeys: new Map(),
    fingerprints: {},
    previews: {},

    setCatalog(catalog) {
      const { doc, knownKeys, fingerprints } = get();
      set({ catalog, ...derive(doc, catalog, knownKeys, fingerprints) });
    },

    load(workflow) {
      const doc = restore(workflow);
      change(doc);
      // Another document: earlier previews belong to other nodes.
      set({ previews: {} });
    },

    onNodesChange(changes) {
      const { doc } = get();
      const nodes = applyNodeChanges(changes, doc.nodes);
      const next = { ...doc, nodes };
      // Selection and measuring are not edits; moves and removals are (one undo step per dragged node).
      const moved = changes.find((c) => c.type === 'position' && c.dragging);
      const edit = changes.some((c) => c.type === 'remove' || c.type === 'add') || moved !== undefined;
      if (edit) change(next, moved && moved.type === 'position' ? `move:${moved.id}` : undefined);
      else set({ doc: next });
      if (changes.some((c) => c.type === 'position' && c.dragging === false)) get().endEdit();
    },

    onEdgesChange(changes) {
      const { doc } = get();
      const edges = applyEdgeChanges(changes, doc.edges);
      const edit = changes.some((c) => c.type === 'remove' || c.type === 'add');
      if (edit) change({ ...doc, edges });
      else set({ doc: { ...doc, edges } });
    },

    connect(request) {
      const { doc, catalog } = get();
      if (!catalog) return false;
      const check = checkConnection(doc, catalog, request);
      if (!check.ok) {
        get().notify('error', `Cannot connect: ${check.reason}`);
        return false;
      }
      const edge = {
        id: edgeId(request.source, request.sourceHandle, request.target, request.targetHandle),
        ...request,
      };
      change({ ...doc, edges: [...doc.edges, edge] });
      return true;
    },

    addNode(type, position) {
      const { doc, catalog } = get();
      const row = catalog?.byType.get(type);
      const id = freshNodeId(type, new Set(doc.nodes.map((n) => n.id)));
      const params: Record<string, ParamValue> = {};
      for (const p of row?.params ?? []) params[p.name] = p.default;
      const node: FlowNode = { id, type: 'diffedit', position, data: { type, params }, selected: true };
      change({ ...doc, nodes: [...doc.nodes.map((n) => ({ ...n, selected: false })), node] });
      return id;
    },

    setParam(nodeId, name, value) {
      const { doc } = get();
      const nodes = doc.nodes.map((n) =>
        n.id === nodeId ? { ...n, data: { ...n.data, params: { ...n.data.params, [name]: value } } } : n,
      );
      change({ ...doc, nodes }, `param:${nodeId}.${name}`);
    },

    setTitle(nodeId, title) {
      const { doc } = get();
      const nodes = doc.nodes.map((n) => (n.id === nodeId ? { ...n, data: { ...n.data, title } } : n));
      change({ ...doc, nodes }, `title:${nodeId}`);
    },

    setName(name) {
      change({ ...get().doc, name }, 'name');
    },

    deleteSelection() {
      const { doc } = get();
      const ids = selectedIds();
      const edges = doc.edges.filter((e) => !e.selected && !ids.has(e.source) && !ids.has(e.target));
      if (ids.size === 0 && edges.length === doc.edges.length) return;
      change({ ...doc, nodes: doc.nodes.filter((n) => !ids.has(n.id)), edges });
    },

    copy() {
      const { doc } = get();
      const ids = selectedIds();
      if (ids.size > 0) set({ clipboard: copyFragment(doc.nodes, doc.edges, ids) });
    },

    paste(offset = { x: 40, y: 40 }) {
      const { doc, clipboard } = get();
      if (!clipboard || clipboard.nodes.length === 0) return;
      const pasted = pasteFragment(clipboard, new Set(doc.nodes.map((n) => n.id)), offset);
      change({
        ...doc,
        nodes: [...doc.nodes.map((n) => ({ ...n, selected: false })), ...pasted.nodes],
        edges: [...doc.edges, ...pasted.edges],
      });
      // Pasting again continues the cascade instead of stacking on the same spot.
      set({ clipboard: { nodes: pasted.nodes, edges: pasted.edges } });
    },

    duplicate() {
      const { doc } = get();
      const ids = selectedIds();
      if (ids.size === 0) return;
      const pasted = pasteFragment(
        copyFragment(doc.nodes, doc.edges, ids),
        new Set(doc.nodes.map((n) => n.id)),
        {
          x: 40,
          y: 40,
        },
      );
      change({
        ...doc,
        nodes: [...doc.nodes.map((n) => ({ ...n, selected: false })), ...pasted.nodes],
        edges: [...doc.edges, ...pasted.edges],
      });
    },

    groupSelection(title = 'Group') {
      const { doc } = get();
      const ids = [...selectedIds()];
      if (ids.length === 0) return;
      const taken = new Set(doc.groups.map((g) => g.id));
      let n = doc.groups.length + 1;
      while (taken.has(`group${n}`)) n++;
      // A node belongs to one group: move it out of any other.
      const groups = doc.groups.map((g) => ({ ...g, nodes: g.nodes.filter((id) => !ids.includes(id)) }));
      change({ ...doc, groups: [...groups, { id: `group${n}`, title, nodes: ids }] });
    },

    ungroup(groupId) {
      const { doc } = get();
      change({ ...doc, groups: doc.groups.filter((g) => g.id !== groupId) });
    },

    undo() {
      const state = get();
      const step = undo(state.history, canvasToWorkflow(state.doc));
      if (!step) return;
      const doc = restore(step.state);
      set({ doc, history: step.history, ...derive(doc, state.catalog, state.knownKeys, state.fingerprints) });
    },

    redo() {
      const state = get();
      const step = redo(state.history, canvasToWorkflow(state.doc));
      if (!step) return;
      const doc = restore(step.state);
      set({ doc, history: step.history, ...derive(doc, state.catalog, state.knownKeys, state.fingerprints) });
    },

    endEdit() {
      const { history } = get();
      const next = endGroup(history);
      if (next !== history) set({ history: next });
    },

    notify(kind, text) {
      set({ notice: { kind, text, id: ++noticeId } });
    },

    startRun(runId) {
      set({ run: { runId, status: 'queued', nodes: {}, planned: [] }, submittedKeys: get().keys });
    },

    applyServerEvent(event) {
      const { run } = get();
      if (!run) return;
      const next = applyEvent(run, event);
      if (next !== run) set({ run: next, previews: collectPreviews(get().previews, next) });
    },

    setRunView(view) {
      set({ run: view, previews: collectPreviews(get().previews, view) });
    },

    learnRun(nodes, fingerprints) {
      const state = get();
      const knownKeys = new Set(state.knownKeys);
      for (const { nodeId, cacheKey } of nodes) {
        if (cacheKey !== undefined) knownKeys.add(cacheKey);
        // Without the run's fingerprints the browser keys file/model params on their names only; its key for
        // the submitted node then stands for the server's.
        const submitted = state.submittedKeys.get(nodeId);
        if (submitted !== undefined) knownKeys.add(submitted);
      }
      const fps = fingerprints ? { ...state.fingerprints, ...fingerprints } : state.fingerprints;
      set({ knownKeys, fingerprints: fps, ...derive(state.doc, state.catalog, knownKeys, fps) });
    },
  };
});

/** The open workflow as a document (what runs, saves and exports). */
export function currentWorkflow(): Workflow {
  return canvasToWorkflow(useEditor.getState().doc);
}
