import type { ValidationIssue } from './issues.js';
import { quoteValue } from './issues.js';

/**
 * Bounds on a workflow document, checked before anything else reads it: free-form fields (meta, groups,
 * params) could otherwise nest deep enough to overflow the stack of any recursive reader (canonical JSON for
 * cache keys, schema validation), and a document could be large enough to stall planning. Generous for any
 * hand-made or editor-made workflow.
 */
export const WORKFLOW_LIMITS = {
  /** Nodes per workflow. */
  maxNodes: 10_000,
  /** Edges per workflow. */
  maxEdges: 40_000,
  /** Nesting depth of the whole document (the top-level object is depth 1; a node's params are depth 4). */
  maxDepth: 64,
  /** Characters in any one string (a prompt, a key, a free-form note). */
  maxStringLength: 1_000_000,
  /** JSON values (objects, arrays, strings, numbers…) in the whole document. */
  maxValues: 2_000_000,
} as const;

export type WorkflowLimits = { readonly [K in keyof typeof WORKFLOW_LIMITS]: number };

/** Keys that would change an object's prototype when copied by assignment, so no document may use them. */
const FORBIDDEN_KEYS = new Set(['__proto__']);

/**
 * Checks the document's size, depth and keys without recursion (so it cannot overflow itself), and returns
 * the problems found, each naming the node (when inside one) and the path of the field. Stops at the first
 * depth or size problem: what lies below it is not read.
 */
export function checkDocumentLimits(
  raw: unknown,
  limits: WorkflowLimits = WORKFLOW_LIMITS,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (typeof raw !== 'object' || raw === null) return issues;
  const doc = raw as { nodes?: unknown; edges?: unknown };
  if (Array.isArray(doc.nodes) && doc.nodes.length > limits.maxNodes) {
    issues.push({
      nodeId: null,
      field: 'nodes',
      code: 'too_many_nodes',
      message: `the workflow has ${doc.nodes.length} nodes; at most ${limits.maxNodes} are allowed`,
    });
  }
  if (Array.isArray(doc.edges) && doc.edges.length > limits.maxEdges) {
    issues.push({
      nodeId: null,
      field: 'edges',
      code: 'too_many_nodes',
      message: `the workflow has ${doc.edges.length} edges; at most ${limits.maxEdges} are allowed`,
    });
  }
  if (issues.length > 0) return issues;

  // Depth-first walk with an explicit stack; `path` is kept short for messages (first segments only).
  const stack: Array<{ value: unknown; depth: number; path: readonly string[] }> = [
    { value: raw, depth: 1, path: [] },
  ];
  let values = 0;
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (++values > limits.maxValues) {
      issues.push({
        nodeId: null,
        field: '$',
        code: 'too_large',
        message: `the workflow has more than ${limits.maxValues} JSON values`,
      });
      return issues;
    }
    if (typeof value === 'string') {
      if (value.length > limits.maxStringLength) {
        issues.push({
          ...where(raw, path),
          code: 'too_large',
          message: `${describePath(path)} is ${value.length} characters long; at most ${limits.maxStringLength} are allowed`,
        });
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > limits.maxDepth) {
      issues.push({
        ...where(raw, path),
        code: 'too_deep',
        message: `${describePath(path)} nests deeper than ${limits.maxDepth} levels`,
      });
      return issues;
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i], depth: depth + 1, path: [...path, String(i)] });
      }
      continue;
    }
    for (const key of Object.keys(value)) {
      const keyPath = [...path, key];
      if (FORBIDDEN_KEYS.has(key)) {
        const inParams = path.length === 3 && path[0] === 'nodes' && path[2] === 'params';
        issues.push({
          ...where(raw, keyPath),
          code: inParams ? 'unknown_param' : 'invalid_document',
          message: inParams ? `no node has a param named '${key}'` : `the key '${key}' is not allowed here`,
        });
        continue;
      }
      if (key.length > limits.maxStringLength) {
        issues.push({
          ...where(raw, path),
          code: 'too_large',
          message: `a key in ${describePath(path)} is ${key.length} characters long; at most ${limits.maxStringLength} are allowed`,
        });
        continue;
      }
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1, path: keyPath });
    }
  }
  return issues;
}

/** The node (for paths inside nodes[i]) and the field, as a ValidationIssue places them. */
function where(raw: unknown, path: readonly string[]): { nodeId: string | null; field: string } {
  let nodeId: string | null = null;
  let field = path.length === 0 ? '$' : shortPath(path);
  if (path[0] === 'nodes' && path.length > 1) {
    const node = ((raw as { nodes: unknown[] }).nodes ?? [])[Number(path[1])];
    const id = typeof node === 'object' && node !== null ? (node as { id?: unknown }).id : undefined;
    if (typeof id === 'string' && id.length <= 128) {
      nodeId = id;
      // inside a node, name the param (or field) itself, as other node issues do
      field = path[2] === 'params' && path.length > 3 ? shortPath(path.slice(3)) : shortPath(path.slice(2));
      if (field === '') field = '$';
    }
  }
  return { nodeId, field };
}

function shortPath(path: readonly string[]): string {
  const parts = path.map((p) => (p.length > 40 ? `${p.slice(0, 40)}…` : p));
  return parts.length > 8
    ? [...parts.slice(0, 6), `…(${parts.length - 7} more)`, parts.at(-1)].join('.')
    : parts.join('.');
}

function describePath(path: readonly string[]): string {
  return path.length === 0 ? 'the document' : quoteValue(shortPath(path), 120);
}
