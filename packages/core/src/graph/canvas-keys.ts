import type { ValidationIssue } from '../workflow/issues.js';
import { parseWorkflow } from '../workflow/parse.js';
import { computeCacheKeys } from './cache-keys.js';
import type { ParamFingerprints } from './cache-keys.js';
import type { SpecCatalog } from './catalog.js';
import { upstreamOf } from './topology.js';
import { validateWorkflow } from './validate.js';

export interface CanvasKeys {
  /** node id → cache key, for every node that neither is broken nor depends on a broken node. */
  keys: Record<string, string>;
  /** Every problem of the canvas, as validateWorkflow reports them. */
  issues: ValidationIssue[];
  /** Node ids without a key: broken, or downstream of a broken node (or all, when the document is malformed). */
  unkeyed: string[];
}

/**
 * The cache keys of a canvas as the editor holds it, possibly half-built: the same keys the executor computes
 * for a run (same code: validateWorkflow + computeCacheKeys), for every node that does not depend on a broken
 * one. `catalog` may come from `catalogFromJSON(GET /api/nodes)`; `fingerprints` from the last run's result,
 * report.json or report.json's `fingerprints`. A file/model param without a fingerprint is keyed on its path
 * alone, so such a node's key matches the executor's only once a run has fingerprinted it.
 *
 * A node whose key differs from the last run's `cacheKey` for it is stale: running it would not hit the cache.
 */
export function computeCanvasKeys(
  catalog: SpecCatalog,
  document: unknown,
  fingerprints: ParamFingerprints = {},
): CanvasKeys {
  const full = validateWorkflow(document, catalog);
  if (full.ok) {
    const keys = computeCacheKeys(full.workflow, catalog, fingerprints, full.document);
    return { keys: Object.fromEntries(keys), issues: [], unkeyed: [] };
  }
  const parsed = parseWorkflow(document);
  if (!parsed.ok) {
    const ids = nodeIdsOf(document);
    return { keys: {}, issues: full.issues, unkeyed: ids };
  }
  const { nodes, edges } = parsed.workflow;
  const broken = new Set<string>();
  for (const issue of full.issues) {
    if (issue.nodeId !== null) broken.add(issue.nodeId);
    for (const id of issue.nodes ?? []) broken.add(id);
    // An edge problem without a node (a duplicate edge id) breaks the node the edge feeds.
    if (issue.nodeId === null && issue.edgeId !== undefined) {
      for (const edge of edges) if (edge.id === issue.edgeId) broken.add(edge.to.node);
    }
  }
  const dependencies = edges.map((e) => ({ from: e.from.node, to: e.to.node }));
  const keyable = nodes
    .map((node) => node.id)
    .filter((id) => ![...upstreamOf([id], dependencies)].some((up) => broken.has(up)));
  const keys: Record<string, string> = {};
  if (keyable.length > 0) {
    // "Run up to" every keyable node: validation scoped to them passes, and keys them as a run would.
    const scoped = validateWorkflow(document, catalog, { targets: keyable });
    if (scoped.ok) {
      for (const [id, key] of computeCacheKeys(scoped.workflow, catalog, fingerprints, scoped.document)) {
        keys[id] = key;
      }
    }
  }
  return { keys, issues: full.issues, unkeyed: nodes.map((n) => n.id).filter((id) => !(id in keys)) };
}

function nodeIdsOf(document: unknown): string[] {
  const nodes = (document as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  return nodes
    .map((node: unknown) => (node as { id?: unknown } | null)?.id)
    .filter((id): id is string => typeof id === 'string');
}
