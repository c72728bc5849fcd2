import { computeCanvasKeys } from '@diffedit/core';
import type { ParamFingerprints, SpecCatalog, ValidationIssue, Workflow } from '@diffedit/core';

/**
 * Validation issues and cache keys of a possibly half-built canvas, from the core's computeCanvasKeys: the
 * same code the runtime keys its runs with, fed with the fingerprints of the files and models the last run
 * reported.
 */
export function canvasState(
  workflow: Workflow,
  catalog: SpecCatalog,
  fingerprints: ParamFingerprints = {},
): { keys: Map<string, string>; issues: ValidationIssue[] } {
  const { keys, issues } = computeCanvasKeys(catalog, workflow, fingerprints);
  return { keys: new Map(Object.entries(keys)), issues };
}

/** Nodes whose key the server has no result for: they would run if the canvas ran now. */
export function staleNodes(keys: ReadonlyMap<string, string>, known: ReadonlySet<string>): Set<string> {
  const stale = new Set<string>();
  for (const [id, key] of keys) if (!known.has(key)) stale.add(id);
  return stale;
}
