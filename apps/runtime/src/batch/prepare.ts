import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';

import { ASSET_PARAM_PATTERN, formatIssue, isFileId, ownValue, validateWorkflow } from '@diffedit/core';
import type { SpecCatalog, ValidationIssue } from '@diffedit/core';

import { applyOverrides } from '../overrides.js';
import type { ParamOverride } from '../overrides.js';
import { BatchInputError, rowLabel } from './rows.js';
import type { BatchRow } from './rows.js';

/** A local file a row's workflow reads (a LoadImage's image): uploaded first when running through a server. */
export interface RowFile {
  nodeId: string;
  param: string;
  /** Absolute path on this machine. */
  path: string;
}

/** A row that passed validation: the workflow document to run, and the local files it reads. */
export interface PreparedRow {
  row: BatchRow;
  document: WorkflowDocument;
  files: RowFile[];
}

/** The workflow document as far as batch needs to see it (validation has checked the rest). */
export interface WorkflowDocument {
  nodes: { id: string; type: string; params: Record<string, unknown> }[];
  [key: string]: unknown;
}

export interface PrepareOptions {
  /** The workflow document as read from its file. */
  workflow: unknown;
  /** Its file name, for messages. */
  workflowName: string;
  catalog: SpecCatalog;
  /** `--set` assignments, applied to every row before the row's own values. */
  sets: readonly ParamOverride[];
  /** The CSV's NODE.PARAM columns (for `--images`, the image node's param). */
  columns: readonly string[];
  rows: readonly BatchRow[];
  /** Problems already found in the rows (the CSV's header, row names): listed with the others. */
  problems?: readonly string[];
  /** The CSV file name or `--images DIR`, for messages. */
  source: string;
  /** Folder relative file params are read from (the workflow's folder, or --inputs). */
  inputsDir: string;
  /** Through a server: file ids are the server's, and `assets/NAME.png` may be its shipped image. */
  remote: boolean;
}

/**
 * Checks every row before anything runs: the columns name nodes and params of the workflow, every row's values
 * validate (the core's validation, so the same rules as a run), and every file they read exists. Throws a
 * BatchInputError listing each problem with its row, column, node and field.
 */
export async function prepareRows(options: PrepareOptions): Promise<PreparedRow[]> {
  const { catalog, source } = options;
  const base = options.workflow as { nodes?: unknown } | null;
  if (typeof base !== 'object' || base === null || !Array.isArray(base.nodes)) {
    throw new BatchInputError([`${options.workflowName}: not a workflow document (it has no "nodes" array)`]);
  }
  const nodeTypes = new Map<string, string>();
  for (const node of base.nodes as unknown[]) {
    const { id, type } = (node ?? {}) as { id?: unknown; type?: unknown };
    if (typeof id === 'string' && typeof type === 'string') nodeTypes.set(id, type);
  }
  const kindOf = (type: string, param: string) => {
    const params = catalog.get(type)?.params;
    return params ? ownValue(params, param)?.kind : undefined;
  };

  // Columns and --set targets first: a wrong header is one problem, not one per row.
  const problems: string[] = [...(options.problems ?? [])];
  const checkTarget = (label: string, target: string): void => {
    const dot = target.lastIndexOf('.');
    const nodeId = target.slice(0, dot);
    const param = target.slice(dot + 1);
    const type = nodeTypes.get(nodeId);
    if (type === undefined) {
      problems.push(
        `${label}: the workflow has no node '${nodeId}' (its nodes: ${[...nodeTypes.keys()].join(', ')})`,
      );
      return;
    }
    const spec = catalog.get(type);
    if (spec === undefined) return; // the workflow's own problem, reported by validation below
    if (ownValue(spec.params, param) === undefined) {
      const known = Object.keys(spec.params);
      problems.push(
        `${label}: node ${nodeId} (${type}) has no param '${param}' (its params: ${known.length > 0 ? known.join(', ') : 'none'})`,
      );
    }
  };
  for (const column of options.columns) checkTarget(`${source} column ${column}`, column);
  for (const set of options.sets) {
    const target = `${set.nodeId}.${set.param}`;
    checkTarget(`--set ${target}`, target);
    if (options.columns.includes(target)) {
      problems.push(`--set ${target}: ${source} also sets it (column ${target}); set it in one place only`);
    }
  }
  if (problems.length > 0) throw new BatchInputError(problems);

  const withSets = applyOverrides(options.workflow, options.sets, kindOf);
  const once = new Set<string>();
  const files = new FileChecker();
  const prepared: PreparedRow[] = [];
  for (const row of options.rows) {
    const label = rowLabel(source, row);
    const document = applyOverrides(withSets, row.overrides, kindOf) as WorkflowDocument;
    const origin = (nodeId: string | null, field: string | undefined): string => {
      const cell = row.overrides.find((o) => o.nodeId === nodeId && o.param === field);
      if (cell) return `${label} › column ${cell.column}`;
      const set = options.sets.find((o) => o.nodeId === nodeId && o.param === field);
      return set ? `--set ${set.nodeId}.${set.param}` : options.workflowName;
    };
    const report = (where: string, text: string): void => {
      // Problems of the workflow or of --set are the same in every row: say them once.
      const message = `${where}: ${text}`;
      if (where.startsWith(label) || !once.has(message)) problems.push(message);
      once.add(message);
    };

    const result = validateWorkflow(document, catalog);
    if (!result.ok) {
      for (const issue of result.issues)
        report(origin(issue.nodeId, issue.field), describeIssue(issue, nodeTypes));
    }
    // Files are checked in invalid rows too, so that one pass lists every problem.
    const rowFiles: RowFile[] = [];
    for (const node of Array.isArray(document.nodes) ? document.nodes : []) {
      const spec = typeof node?.type === 'string' ? catalog.get(node.type) : undefined;
      for (const [param, value] of Object.entries(node?.params ?? {})) {
        if (
          !spec ||
          ownValue(spec.params, param)?.kind !== 'file' ||
          typeof value !== 'string' ||
          value === ''
        )
          continue;
        if (options.remote && isFileId(value)) continue;
        const path = resolve(options.inputsDir, value);
        const missing = await files.problem(path);
        if (missing === undefined) rowFiles.push({ nodeId: node.id, param, path });
        else if (!(options.remote && ASSET_PARAM_PATTERN.test(value))) {
          report(
            origin(node.id, param),
            `node ${node.id} (${node.type}) › ${param}: ${missing} '${value}' (looked for ${path})`,
          );
        }
      }
    }
    prepared.push({ row, document, files: rowFiles });
  }
  if (problems.length > 0) throw new BatchInputError(problems);
  return prepared;
}

/** `node mask (GenerateMask) › mask_guidance_scale: … [invalid_param]`. */
function describeIssue(issue: ValidationIssue, nodeTypes: ReadonlyMap<string, string>): string {
  if (issue.nodeId === null) return formatIssue(issue);
  const type = nodeTypes.get(issue.nodeId);
  const where = [`node ${issue.nodeId}${type ? ` (${type})` : ''}`, issue.field]
    .filter((part) => part !== undefined)
    .join(' › ');
  return `${where}: ${issue.message} [${issue.code}]`;
}

/** Whether paths are readable files, asking the disk once per path. */
class FileChecker {
  private readonly known = new Map<string, Promise<string | undefined>>();

  problem(path: string): Promise<string | undefined> {
    let answer = this.known.get(path);
    if (answer === undefined) {
      answer = stat(path).then(
        (s) => (s.isFile() ? undefined : 'not a file:'),
        () => 'no such file',
      );
      this.known.set(path, answer);
    }
    return answer;
  }
}
