/** One `--set NODE.PARAM=VALUE` assignment. */
export interface ParamOverride {
  nodeId: string;
  param: string;
  value: unknown;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses `NODE.PARAM=VALUE`; the value is JSON when it parses as JSON, else the raw string. */
export function parseOverride(assignment: string): ParamOverride {
  const equals = assignment.indexOf('=');
  const target = equals < 0 ? '' : assignment.slice(0, equals);
  const dot = target.lastIndexOf('.');
  if (equals < 0 || dot <= 0 || dot === target.length - 1) {
    throw new UsageError(`--set expects NODE.PARAM=VALUE, got '${assignment}'`);
  }
  const text = assignment.slice(equals + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: keep it as a string, so `--set prompt.text=a cat` needs no quotes.
  }
  return { nodeId: target.slice(0, dot), param: target.slice(dot + 1), value };
}

/** Returns a copy of the workflow document with the params overridden; unknown node ids are an error. */
export function applyOverrides(document: unknown, overrides: readonly ParamOverride[]): unknown {
  if (overrides.length === 0) return document;
  const doc = document as { nodes?: unknown };
  if (!Array.isArray(doc.nodes)) throw new UsageError('--set: the workflow has no "nodes" array');
  const nodes = (doc.nodes as Record<string, unknown>[]).map((node) => ({
    ...node,
    id: node.id,
    params: { ...(node.params as Record<string, unknown> | undefined) },
  }));
  for (const { nodeId, param, value } of overrides) {
    const node = nodes.find((n) => n.id === nodeId);
    if (!node) throw new UsageError(`--set ${nodeId}.${param}: the workflow has no node '${nodeId}'`);
    node.params[param] = value;
  }
  return { ...(document as object), nodes };
}
