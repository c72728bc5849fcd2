/** Stable codes of everything that can be wrong with a workflow before it runs. */
export const VALIDATION_CODES = [
  'invalid_document',
  'unknown_node_type',
  'unknown_param',
  'invalid_param',
  'required_input_missing',
  'type_mismatch',
  'dangling_edge',
  'duplicate_id',
  'input_connected_twice',
  'cycle',
  'no_output_node',
  'unknown_target',
  'too_many_nodes',
  'too_deep',
  'too_large',
] as const;

export type ValidationCode = (typeof VALIDATION_CODES)[number];

/** One problem found in a workflow. `nodeId` is null for problems of the document as a whole. */
export interface ValidationIssue {
  nodeId: string | null;
  /** The param, input or document path concerned, when there is one. */
  field?: string;
  code: ValidationCode;
  message: string;
  /** For `cycle`: the nodes around the loop, in order. For edge problems: the edge id. */
  nodes?: string[];
  edgeId?: string;
}

export function formatIssue(issue: ValidationIssue): string {
  const where = [issue.nodeId !== null ? `node ${issue.nodeId}` : 'workflow', issue.field]
    .filter((part) => part !== undefined)
    .join(' › ');
  return `${where}: ${issue.message} [${issue.code}]`;
}

/**
 * A user-supplied value as an error message quotes it: JSON-quoted, and cut to `max` characters with the full
 * length named, so that a 2 MB string in a workflow gives a one-line error, not 2 MB of output.
 */
export function quoteValue(value: unknown, max = 80): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value); // a bigint, a cyclic object
  }
  if (text.length <= max) return text;
  const length =
    typeof value === 'string' ? `${value.length} characters` : `${text.length} characters as JSON`;
  return `${text.slice(0, max)}… (${length})`;
}
