import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describeOutputs } from '@diffedit/core';
import type {
  CacheStats,
  NodeArtifact,
  NodeRunStatus,
  ParamFingerprints,
  RunError,
  RunResult,
  RunWarning,
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
  /** What nodes warned about: ran, but probably not as meant (node, field, code, message). */
  warnings: RunWarning[];
  cache: CacheStats;
}

/**
 * File names for the artifacts in the output folder: a node's own name unless two nodes chose the same one,
 * in which case each is prefixed with its node id.
 */
export function artifactFileNames(artifacts: readonly Pick<NodeArtifact, 'nodeId' | 'name'>[]): string[] {
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
    warnings: result.warnings,
    cache,
  };
}

/** How output files reach the disk; tests inject failures (a full disk) through it. */
export interface OutputFs {
  writeFile(path: string, bytes: Uint8Array | string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string): Promise<void>;
}

const nodeFs: OutputFs = {
  writeFile: (path, bytes) => writeFile(path, bytes),
  rename: (from, to) => rename(from, to),
  rm: (path) => rm(path, { force: true }),
};

const tempName = (path: string): string =>
  `${path}.${process.pid}-${Math.random().toString(36).slice(2, 10)}.partial`;

/**
 * Writes files under temporary names in their folder, then renames them into place: a reader (or a full disk)
 * never sees a partial file under a real name, and if any write fails nothing is renamed and the temporary
 * files are removed, so the files of an earlier run stay as they were.
 */
export async function writeFilesAtomic(
  files: ReadonlyArray<{ path: string; bytes: Uint8Array | string }>,
  fs: OutputFs = nodeFs,
): Promise<void> {
  const temps = files.map((f) => tempName(f.path));
  try {
    for (const [i, file] of files.entries()) await fs.writeFile(temps[i], file.bytes);
  } catch (error) {
    await Promise.all(temps.map((temp) => fs.rm(temp).catch(() => {})));
    throw error;
  }
  for (const [i, file] of files.entries()) await fs.rename(temps[i], file.path);
}

/** Writes every artifact and report.json (last) into `outDir`, all or nothing; returns the report. */
export async function writeRunOutput(
  outDir: string,
  workflowName: string,
  result: RunResult,
  cache: CacheStats,
  fs: OutputFs = nodeFs,
): Promise<RunReport> {
  await mkdir(outDir, { recursive: true });
  const files = artifactFileNames(result.artifacts);
  const report = buildReport(workflowName, result, cache, files);
  await writeFilesAtomic(
    [
      ...result.artifacts.map((artifact, i) => ({ path: join(outDir, files[i]), bytes: artifact.bytes })),
      { path: join(outDir, 'report.json'), bytes: `${JSON.stringify(report, null, 2)}\n` },
    ],
    fs,
  );
  return report;
}
