import { WORKFLOW_FORMAT, WORKFLOW_VERSION } from '@diffedit/core';
import type { ParamValue, Workflow, WorkflowGroup } from '@diffedit/core';
import type { Edge, Node } from '@xyflow/react';

import type { EditorCatalog } from './catalog.js';

/** What a canvas node carries: the workflow node minus id and position (React Flow holds those). */
export interface NodeData extends Record<string, unknown> {
  type: string;
  params: Record<string, ParamValue>;
  title?: string;
}

export type FlowNode = Node<NodeData, 'diffedit'>;
export type FlowEdge = Edge;

/** The editable document: React Flow's nodes and edges plus the format's UI-only fields. */
export interface CanvasDoc {
  name: string;
  description: string;
  nodes: FlowNode[];
  edges: FlowEdge[];
  groups: WorkflowGroup[];
  meta?: Record<string, unknown>;
}

export function edgeId(from: string, output: string, to: string, input: string): string {
  return `${from}-${output}-${to}-${input}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128);
}

/**
 * Workflow → canvas. Params missing from the document show their defaults when the node type is known (so a
 * widget always has a value); params of unknown node types are kept as they are.
 */
export function workflowToCanvas(workflow: Workflow, catalog?: EditorCatalog): CanvasDoc {
  const nodes: FlowNode[] = workflow.nodes.map((node, index) => {
    const row = catalog?.byType.get(node.type);
    const params: Record<string, ParamValue> = {};
    for (const p of row?.params ?? []) params[p.name] = p.default;
    for (const [name, value] of Object.entries(node.params)) params[name] = value as ParamValue;
    const data: NodeData = { type: node.type, params };
    if (node.title !== undefined) data.title = node.title;
    return {
      id: node.id,
      type: 'diffedit',
      position: node.position ?? { x: (index % 4) * 320, y: Math.floor(index / 4) * 260 },
      data,
    };
  });
  const edges: FlowEdge[] = workflow.edges.map((edge) => ({
    id: edge.id,
    source: edge.from.node,
    sourceHandle: edge.from.output,
    target: edge.to.node,
    targetHandle: edge.to.input,
  }));
  return {
    name: workflow.name,
    description: workflow.description ?? '',
    nodes,
    edges,
    groups: workflow.groups ?? [],
    meta: workflow.meta,
  };
}

/** Canvas → workflow document (what is saved, exported, run and embedded in PNGs). */
export function canvasToWorkflow(doc: CanvasDoc): Workflow {
  const workflow: Workflow = {
    format: WORKFLOW_FORMAT,
    version: WORKFLOW_VERSION,
    name: doc.name,
    description: doc.description,
    nodes: doc.nodes.map((node) => {
      const out: Workflow['nodes'][number] = {
        id: node.id,
        type: node.data.type,
        params: { ...node.data.params },
        position: { x: Math.round(node.position.x), y: Math.round(node.position.y) },
      };
      if (node.data.title !== undefined && node.data.title !== '') out.title = node.data.title;
      return out;
    }),
    edges: doc.edges.map((edge) => ({
      id: edge.id,
      from: { node: edge.source, output: edge.sourceHandle ?? '' },
      to: { node: edge.target, input: edge.targetHandle ?? '' },
    })),
  };
  const groups = doc.groups
    .map((g) => ({ ...g, nodes: g.nodes.filter((id) => doc.nodes.some((n) => n.id === id)) }))
    .filter((g) => g.nodes.length > 0);
  if (groups.length > 0) workflow.groups = groups;
  if (doc.meta !== undefined) workflow.meta = doc.meta;
  return workflow;
}

/** A fresh node id for `type` that is not in `taken`: `denoise`, `denoise_2`, … */
export function freshNodeId(type: string, taken: ReadonlySet<string>): string {
  const base =
    type
      .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '_')
      .slice(0, 100) || 'node';
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}
