import { computeCacheKeys, upstreamOf, validateWorkflow } from '@diffedit/core';
import type { NodeCatalog, ParamFingerprints, ValidationIssue, Workflow } from '@diffedit/core';

/**
 * Cache keys of every node of a possibly half-finished canvas that can have one: a node whose own params and
 * inputs are valid and whose upstream is valid too. Same code as the runtime (core's computeCacheKeys), fed
 * with the fingerprints of the files and models the last run reported.
 */
export function canvasKeys(
  workflow: Workflow,
  catalog: NodeCatalog,
  fingerprints: ParamFingerprints = {},
): Map<string, string> {
  const full = validateWorkflow(workflow, catalog);
  if (full.ok) return computeCacheKeys(full.workflow, catalog, fingerprints, full.document);
  const bad = new Set(full.issues.map((i: ValidationIssue) => i.nodeId).filter((id) => id !== null));
  if (full.issues.some((i) => i.nodeId === null && i.code !== 'no_output_node')) return new Map();
  const deps = workflow.edges.map((e) => ({ from: e.from.node, to: e.to.node }));
  const good = workflow.nodes
    .map((n) => n.id)
    .filter((id) => ![...upstreamOf([id], deps)].some((up) => bad.has(up)));
  if (good.length === 0) return new Map();
  const partial = validateWorkflow(workflow, catalog, { targets: good });
  if (!partial.ok) return new Map();
  return computeCacheKeys(partial.workflow, catalog, fingerprints, partial.document);
}

/** Nodes whose key the server has no result for: they would run if the canvas ran now. */
export function staleNodes(keys: ReadonlyMap<string, string>, known: ReadonlySet<string>): Set<string> {
  const stale = new Set<string>();
  for (const [id, key] of keys) if (!known.has(key)) stale.add(id);
  return stale;
}
