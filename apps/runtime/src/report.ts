import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describeOutputs } from '@diffedit/core';
import type {
  CacheStats,
  NodeArtifact,
  NodeRunStatus,
  ParamFingerprints,
  RunError,
  RunResult,
  ValidationIssue,
} from '@diffedit/core';

export interface NodeReport {
  type: string;
  status: NodeRunStatus;
  /** The key the node's result is cached under (what a client compares to mark stale nodes). */
  cacheKey: string;
  ms: number;
  /** Files written into the output folder for this node (names relative to it). */
  files: string[];
  /** A short description of each output (a caption's text, a tensor's shape), for nodes that ran or hit. */
  outputs?: Record<string, string>;
}

/** report.json: what happened to each planned node and where its files went. */
export interface RunReport {
  runId: string;
  workflow: string;
  status: RunResult['status'];
  ms: number;
  nodes: Record<string, NodeReport>;
  /** node id → file/model param → fingerprint, as entered the cache keys (see docs/cache-keys.md). */
  fingerprints: ParamFingerprints;
  error?: RunError;
  issues?: ValidationIssue[];
  cache: CacheStats;
}

/**
 * File names for the artifacts in the output folder: a node's own name unless two nodes chose the same one,
 * in which case each is prefixed with its node id.
 */
export function artifactFileNames(artifacts: readonly NodeArtifact[]): string[] {
  const counts = new Map<string, number>();
  for (const a of artifacts) counts.set(a.name, (counts.get(a.name) ?? 0) + 1);
  return artifacts.map((a) => (counts.get(a.name)! > 1 ? `${a.nodeId}-${a.name}` : a.name));
}

export function buildReport(
  workflowName: string,
  result: RunResult,
  cache: CacheStats,
  files: string[],
): RunReport {
  const nodes: Record<string, NodeReport> = {};
  for (const node of result.nodes) {
    nodes[node.nodeId] = {
      type: node.nodeType,
      status: node.status,
      cacheKey: node.cacheKey,
      ms: Math.round(node.ms * 1000) / 1000,
      files: [],
    };
    const values = result.outputs[node.nodeId];
    if (values !== undefined) nodes[node.nodeId].outputs = describeOutputs(values);
  }
  result.artifacts.forEach((artifact, i) => nodes[artifact.nodeId]?.files.push(files[i]));
  return {
    runId: result.runId,
    workflow: workflowName,
    status: result.status,
    ms: result.ms,
    nodes,
    fingerprints: result.fingerprints,
    ...(result.error ? { error: result.error } : {}),
    ...(result.issues ? { issues: result.issues } : {}),
    cache,
  };
}

/** Writes every artifact and report.json into `outDir`; returns the report. */
export async function writeRunOutput(
  outDir: string,
  workflowName: string,
  result: RunResult,
  cache: CacheStats,
): Promise<RunReport> {
  await mkdir(outDir, { recursive: true });
  const files = artifactFileNames(result.artifacts);
  await Promise.all(result.artifacts.map((artifact, i) => writeFile(join(outDir, files[i]), artifact.bytes)));
  const report = buildReport(workflowName, result, cache, files);
  await writeFile(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
