import type { ValidationIssue } from '../workflow/issues.js';
import { parseWorkflow } from '../workflow/parse.js';
import { WorkflowNodeSchema } from '../workflow/schema.js';
import type { MigrationOptions } from '../workflow/migrations.js';
import type { Workflow, WorkflowNode } from '../workflow/schema.js';
import type { SpecCatalog } from './catalog.js';
import { acceptedTypes, isInputRequired } from './node-definition.js';
import type { NodeSpec } from './node-definition.js';
import { checkParamValue } from './params.js';
import type { ParamValue } from './params.js';
import { resolveSocketConnection } from './sockets.js';
import { findCycles, upstreamOf } from './topology.js';
import { ownValue } from './own.js';
import { quoteValue } from '../workflow/issues.js';

const LIMIT_CODES: ReadonlySet<string> = new Set(['too_many_nodes', 'too_deep', 'too_large']);

/** A user-chosen name as an issue's field: itself, unless it is too long to repeat in full. */
function quoteName(name: string): string {
  return name.length > 80 ? `${name.slice(0, 80)}…` : name;
}

export interface ValidateOptions extends MigrationOptions {
  /** Node ids to run up to; when given, the workflow needs no output node. */
  targets?: readonly string[];
}

/** A workflow that passed validation; every node's params are complete (defaults filled in). */
export type ValidWorkflow = Omit<Workflow, 'nodes'> & {
  nodes: (WorkflowNode & { params: Record<string, ParamValue> })[];
  readonly [validatedBrand]: true;
};

// Type-only brand: a ValidWorkflow can only come from validateWorkflow.
declare const validatedBrand: unique symbol;

export type ValidationResult =
  | {
      ok: true;
      /** What runs: the whole workflow, or with `targets` the sub-graph they need. */
      workflow: ValidWorkflow;
      /**
       * The whole document as the user has it (defaults filled in where the node type is known), also with
       * `targets`: what a node that embeds the workflow (SaveImage) must save, so the file reopens the full graph.
       */
      document: Workflow;
      issues: [];
    }
  | { ok: false; issues: ValidationIssue[] };

/**
 * Checks a workflow document against a catalog and reports everything wrong at once. Missing params take
 * their defaults in the returned workflow. With `targets`, only the targets and what they depend on must be
 * valid, and the returned workflow is reduced to them.
 */
export function validateWorkflow(
  raw: unknown,
  catalog: SpecCatalog,
  options: ValidateOptions = {},
): ValidationResult {
  const parsed = parseWorkflow(raw, options);
  if (!parsed.ok) {
    // With targets, nodes outside them may stay unfinished, so only the shape problems are reported.
    const overLimits = parsed.issues.some((i) => LIMIT_CODES.has(i.code));
    const more =
      options.targets === undefined && !overLimits && parsed.migrated
        ? wellFormedNodeIssues(parsed.migrated, catalog)
        : [];
    return { ok: false, issues: [...parsed.issues, ...more] };
  }
  const workflow = parsed.workflow;
  const issues: ValidationIssue[] = [];

  const nodes = new Map<string, WorkflowNode>();
  for (const node of workflow.nodes) {
    if (nodes.has(node.id)) {
      issues.push({
        nodeId: node.id,
        field: 'id',
        code: 'duplicate_id',
        message: `node id '${node.id}' is used twice`,
      });
    } else {
      nodes.set(node.id, node);
    }
  }
  const edgeIds = new Set<string>();
  for (const edge of workflow.edges) {
    if (edgeIds.has(edge.id)) {
      issues.push({
        nodeId: null,
        edgeId: edge.id,
        field: 'edges',
        code: 'duplicate_id',
        message: `edge id '${edge.id}' is used twice`,
      });
    }
    edgeIds.add(edge.id);
  }

  const definitions = new Map<string, NodeSpec>();
  const resolvedNodes = workflow.nodes.map((node) => {
    const def = checkNode(node, catalog, issues);
    if (def) definitions.set(node.id, def);
    return { ...node, params: def ? resolveParams(node, def, issues) : {} };
  });

  // Edges: both ends must exist, types must fit, and an input takes at most one edge.
  const connected = new Map<string, string>();
  const dependencies: { from: string; to: string }[] = [];
  for (const edge of workflow.edges) {
    const fromNode = nodes.get(edge.from.node);
    const toNode = nodes.get(edge.to.node);
    const dangling = (nodeId: string | null, field: string, message: string): void => {
      issues.push({
        nodeId,
        edgeId: edge.id,
        field,
        code: 'dangling_edge',
        message: `edge ${edge.id}: ${message}`,
      });
    };
    if (!fromNode) dangling(edge.to.node, edge.to.input, `source node '${edge.from.node}' does not exist`);
    if (!toNode) dangling(edge.from.node, edge.from.output, `target node '${edge.to.node}' does not exist`);
    if (!fromNode || !toNode) continue;
    dependencies.push({ from: fromNode.id, to: toNode.id });
    const fromDef = definitions.get(fromNode.id);
    const toDef = definitions.get(toNode.id);
    const output = fromDef ? ownValue(fromDef.outputs, edge.from.output) : undefined;
    const input = toDef ? ownValue(toDef.inputs, edge.to.input) : undefined;
    if (fromDef && !output) {
      dangling(
        fromNode.id,
        quoteName(edge.from.output),
        `${fromDef.type} has no output ${quoteValue(edge.from.output)}`,
      );
    }
    if (toDef && !input) {
      dangling(
        toNode.id,
        quoteName(edge.to.input),
        `${toDef.type} has no input ${quoteValue(edge.to.input)}`,
      );
    }
    if (input) {
      const slot = `${toNode.id}\u0000${edge.to.input}`;
      const previous = connected.get(slot);
      if (previous !== undefined) {
        issues.push({
          nodeId: toNode.id,
          field: edge.to.input,
          edgeId: edge.id,
          code: 'input_connected_twice',
          message: `input '${edge.to.input}' is fed by edges ${previous} and ${edge.id}; an input takes one edge`,
        });
      } else {
        connected.set(slot, edge.id);
      }
    }
    if (output && input && resolveSocketConnection(output.type, input.type) === undefined) {
      issues.push({
        nodeId: toNode.id,
        field: edge.to.input,
        edgeId: edge.id,
        code: 'type_mismatch',
        message: `input '${edge.to.input}' accepts ${acceptedTypes(input).join(' or ')}, but ${fromNode.id}.${edge.from.output} is ${output.type}`,
      });
    }
  }

  for (const node of workflow.nodes) {
    const def = definitions.get(node.id);
    if (!def) continue;
    for (const [name, spec] of Object.entries(def.inputs)) {
      if (isInputRequired(spec) && !connected.has(`${node.id}\u0000${name}`)) {
        issues.push({
          nodeId: node.id,
          field: name,
          code: 'required_input_missing',
          message: `required input '${name}' (${acceptedTypes(spec).join(' or ')}) is not connected`,
        });
      }
    }
  }

  for (const cycle of findCycles([...nodes.keys()], dependencies)) {
    issues.push({
      nodeId: cycle[0],
      code: 'cycle',
      nodes: cycle,
      message: `nodes ${cycle.join(' → ')} form a cycle`,
    });
  }

  if (options.targets !== undefined) {
    for (const target of options.targets) {
      if (!nodes.has(target)) {
        issues.push({
          nodeId: quoteName(target),
          code: 'unknown_target',
          message: `target node ${quoteValue(target)} does not exist`,
        });
      }
    }
  } else if (![...definitions.values()].some((def) => def.output)) {
    issues.push({
      nodeId: null,
      code: 'no_output_node',
      message: 'the workflow has no output node (e.g. ShowValue or a save node), so nothing would run',
    });
  }

  if (options.targets === undefined) {
    if (issues.length > 0) return { ok: false, issues };
    const complete = { ...workflow, nodes: resolvedNodes } as ValidWorkflow;
    return { ok: true, workflow: complete, document: complete, issues: [] };
  }
  // "Run up to this node": only what the targets need must be valid, so a half-built branch elsewhere on
  // the canvas does not block it. The returned workflow is that sub-graph.
  const scope = upstreamOf(options.targets, dependencies);
  const relevant = issues.filter(
    (issue) =>
      issue.nodeId === null ||
      issue.code === 'duplicate_id' ||
      issue.code === 'unknown_target' ||
      scope.has(issue.nodeId) ||
      (issue.nodes ?? []).some((id) => scope.has(id)),
  );
  if (relevant.length > 0) return { ok: false, issues: relevant };
  const scoped = {
    ...workflow,
    nodes: resolvedNodes.filter((node) => scope.has(node.id)),
    edges: workflow.edges.filter((edge) => scope.has(edge.from.node) && scope.has(edge.to.node)),
  };
  // Nodes outside the scope may be unfinished (even of unknown type): they keep their params as written.
  const document: Workflow = {
    ...workflow,
    nodes: workflow.nodes.map((node, i) => (definitions.has(node.id) ? resolvedNodes[i] : node)),
  };
  return { ok: true, workflow: scoped as ValidWorkflow, document, issues: [] };
}

/** The node's definition, or undefined after reporting its type as unknown. */
function checkNode(
  node: WorkflowNode,
  catalog: SpecCatalog,
  issues: ValidationIssue[],
): NodeSpec | undefined {
  const def = catalog.get(node.type);
  if (!def) {
    issues.push({
      nodeId: node.id,
      field: 'type',
      code: 'unknown_node_type',
      message: `unknown node type ${quoteValue(node.type)}`,
    });
  }
  return def;
}

/**
 * When the document's shape is wrong somewhere, the node types and params of the nodes that are well formed
 * are still checked, so that everything wrong is reported at once. Edge and graph checks need the whole
 * document and wait for the shape to be fixed.
 */
function wellFormedNodeIssues(migrated: Record<string, unknown>, catalog: SpecCatalog): ValidationIssue[] {
  if (!Array.isArray(migrated.nodes)) return [];
  const issues: ValidationIssue[] = [];
  for (const entry of migrated.nodes as unknown[]) {
    const node = WorkflowNodeSchema.safeParse(entry);
    if (!node.success) continue;
    const def = checkNode(node.data, catalog, issues);
    if (def) resolveParams(node.data, def, issues);
  }
  return issues;
}

function resolveParams(
  node: WorkflowNode,
  def: NodeSpec,
  issues: ValidationIssue[],
): Record<string, ParamValue> {
  const resolved: Record<string, ParamValue> = {};
  for (const name of Object.keys(node.params)) {
    if (!Object.hasOwn(def.params, name)) {
      issues.push({
        nodeId: node.id,
        field: quoteName(name),
        code: 'unknown_param',
        message: `${def.type} has no param ${quoteValue(name)}`,
      });
    }
  }
  for (const [name, spec] of Object.entries(def.params)) {
    const value = ownValue(node.params, name);
    if (value === undefined) {
      resolved[name] = spec.default;
      continue;
    }
    const problem = checkParamValue(spec, value);
    if (problem !== undefined) {
      issues.push({
        nodeId: node.id,
        field: name,
        code: 'invalid_param',
        message: `param '${name}': ${problem}`,
      });
      continue;
    }
    resolved[name] = value as ParamValue;
  }
  return resolved;
}
