import type { SpecCatalog } from './catalog.js';
import { topologicalOrder, upstreamOf } from './topology.js';
import type { ValidWorkflow } from './validate.js';

export interface PlanOptions {
  /** Nodes to run up to; defaults to every output node. */
  targets?: readonly string[];
  /** Whether a node's result is already available; its producers are then not needed. */
  isCached?: (nodeId: string) => boolean;
}

export interface ExecutionPlan {
  targets: string[];
  /** Every node the run touches, in execution order (cached ones included). */
  order: string[];
  /** The nodes of `order` served from the cache. */
  cached: string[];
}

/** The nodes a run targets when it is given none: every output node, in document order. */
export function outputNodes(workflow: ValidWorkflow, catalog: SpecCatalog): string[] {
  return workflow.nodes.filter((node) => catalog.get(node.type)?.output === true).map((node) => node.id);
}

/**
 * Works back from the targets to the nodes they need, stopping at cached nodes; nodes that contribute to no
 * target are left out. The order is topological, ties broken by position in the document.
 */
export function planExecution(
  workflow: ValidWorkflow,
  catalog: SpecCatalog,
  options: PlanOptions = {},
): ExecutionPlan {
  const targets = options.targets ? [...options.targets] : outputNodes(workflow, catalog);
  const dependencies = workflow.edges.map((e) => ({ from: e.from.node, to: e.to.node }));
  const cached = new Set<string>();
  const needed = upstreamOf(targets, dependencies, (id) => {
    const hit = options.isCached?.(id) === true;
    if (hit) cached.add(id);
    return hit;
  });
  const order = topologicalOrder(
    workflow.nodes.map((n) => n.id),
    dependencies,
  ).filter((id) => needed.has(id));
  return { targets, order, cached: order.filter((id) => cached.has(id)) };
}
