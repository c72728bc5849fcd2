import type { ParamKind } from '@diffedit/core';

/** One `--set NODE.PARAM=VALUE` assignment. */
export interface ParamOverride {
  nodeId: string;
  param: string;
  /** VALUE parsed as JSON, or the raw text when it is not JSON. */
  value: unknown;
  /** VALUE exactly as typed on the command line (absent for overrides built in code). */
  text?: string;
}

/** The widget kind of a node type's param, when known (the CLI asks the catalog). */
export type ParamKindLookup = (nodeType: string, param: string) => ParamKind | undefined;

const TEXT_KINDS: ReadonlySet<ParamKind> = new Set(['string', 'text', 'enum', 'file', 'model']);

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
    throw new UsageError(`--set expects NODE.PARAM=VALUE, got '${cap(assignment)}'`);
  }
  const text = assignment.slice(equals + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: keep it as a string, so `--set prompt.text=a cat` needs no quotes.
  }
  return { nodeId: target.slice(0, dot), param: target.slice(dot + 1), value, text };
}

/**
 * Returns a copy of the workflow document with the params overridden; unknown node ids are an error. With
 * `kindOf`, a text-like param (string, text, enum, file, model) takes VALUE as typed unless it was a JSON
 * string, so `--set prompt.text=42` sets the text "42" rather than the number 42.
 */
export function applyOverrides(
  document: unknown,
  overrides: readonly ParamOverride[],
  kindOf?: ParamKindLookup,
): unknown {
  if (overrides.length === 0) return document;
  const doc = document as { nodes?: unknown } | null;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.nodes)) {
    throw new UsageError('--set: the workflow has no "nodes" array');
  }
  type NodeCopy = { id?: unknown; type?: unknown; params: Record<string, unknown> };
  // Entries that are not objects are left as they are, for validation to report.
  const nodes = (doc.nodes as unknown[]).map((node): unknown => {
    if (typeof node !== 'object' || node === null) return node;
    const { params } = node as { params?: unknown };
    return { ...node, params: { ...(params as Record<string, unknown> | undefined) } } satisfies NodeCopy;
  });
  for (const { nodeId, param, value, text } of overrides) {
    const node = nodes.find(
      (n): n is NodeCopy => typeof n === 'object' && n !== null && (n as NodeCopy).id === nodeId,
    );
    if (!node) {
      throw new UsageError(`--set ${cap(`${nodeId}.${param}`)}: the workflow has no node '${cap(nodeId)}'`);
    }
    const kind = typeof node.type === 'string' ? kindOf?.(node.type, param) : undefined;
    // defineProperty, not assignment: a param named '__proto__' must become an own property (that validation
    // then reports as unknown), not replace the prototype of the params object
    Object.defineProperty(node.params, param, {
      value:
        text !== undefined && kind !== undefined && TEXT_KINDS.has(kind) && typeof value !== 'string'
          ? text
          : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { ...(document as object), nodes };
}

/** A command-line value as a message repeats it: at most 80 characters. */
function cap(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}… (${text.length} characters)` : text;
}
