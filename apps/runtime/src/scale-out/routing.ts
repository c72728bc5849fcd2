import { createHash } from 'node:crypto';

import { isFileId } from '@diffedit/core';
import type { ApiIssue, NodeCatalog, ValidWorkflow } from '@diffedit/core';

/** A model a run needs, and the node param that names it (for a refusal that says where). */
export interface ModelNeed {
  model: string;
  nodeId: string;
  field: string;
}

/** The model folders named by the model params of the nodes that will run. */
export function modelNeeds(workflow: ValidWorkflow, catalog: NodeCatalog): ModelNeed[] {
  const needs: ModelNeed[] = [];
  for (const node of workflow.nodes) {
    const params = catalog.get(node.type)?.params ?? {};
    for (const [field, spec] of Object.entries(params))
      if (spec.kind === 'model') needs.push({ model: String(node.params[field]), nodeId: node.id, field });
  }
  return needs;
}

/** The stored files (uploads, earlier outputs) named by file params: workers elsewhere fetch them from Redis. */
export function inputFiles(workflow: ValidWorkflow, catalog: NodeCatalog): string[] {
  const ids = new Set<string>();
  for (const node of workflow.nodes) {
    const params = catalog.get(node.type)?.params ?? {};
    for (const [field, spec] of Object.entries(params)) {
      const value = String(node.params[field] ?? '');
      if (spec.kind === 'file' && isFileId(value)) ids.add(value);
    }
  }
  return [...ids];
}

/**
 * Identifies "the same workflow" for cache affinity: its nodes (id and type) and edges, not its params, so a
 * re-run after an edit in the editor goes back to the worker whose cache holds the unchanged nodes' results.
 */
export function workflowKey(workflow: ValidWorkflow): string {
  const nodes = workflow.nodes.map((n) => `${n.id}:${n.type}`).sort();
  const edges = workflow.edges
    .map((e) => `${e.from.node}.${e.from.output}>${e.to.node}.${e.to.input}`)
    .sort();
  return createHash('sha256')
    .update(JSON.stringify([nodes, edges]))
    .digest('hex')
    .slice(0, 32);
}

/** Refusals for needs no live worker can serve: one issue per node param whose model nobody holds. */
export function unservable(
  needs: readonly ModelNeed[],
  workers: readonly { models: readonly string[] }[],
): ApiIssue[] {
  if (workers.length === 0)
    return [
      {
        nodeId: null,
        code: 'no_worker',
        message: 'no worker is connected to the queue: start one with `diffedit worker --queue redis://…`',
      },
    ];
  const required = [...new Set(needs.map((n) => n.model))];
  if (workers.some((w) => required.every((m) => w.models.includes(m)))) return [];
  const held = [...new Set(workers.flatMap((w) => w.models))].sort();
  const issues: ApiIssue[] = needs
    .filter((n) => !held.includes(n.model))
    .map((n) => ({
      nodeId: n.nodeId,
      field: n.field,
      code: 'no_worker_for_model',
      message: `no live worker holds the model '${n.model}' (the workers hold: ${held.join(', ') || 'no models'})`,
    }));
  if (issues.length > 0) return issues;
  // Each model is held somewhere, but no single worker holds them all.
  return needs.map((n) => ({
    nodeId: n.nodeId,
    field: n.field,
    code: 'no_worker_for_model',
    message: `no live worker holds all of this run's models (${required.join(', ')}) together`,
  }));
}
