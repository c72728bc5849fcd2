import { resolveSocketConnection, upstreamOf } from '@diffedit/core';
import type { SocketType } from '@diffedit/core';

import type { EditorCatalog } from './catalog.js';

export interface ConnectionRequest {
  source: string;
  sourceHandle: string;
  target: string;
  targetHandle: string;
}

interface GraphLike {
  nodes: readonly { id: string; data: { type: string } }[];
  edges: readonly { source: string; target: string; targetHandle?: string | null }[];
}

export type ConnectionCheck =
  { ok: true; outputType: SocketType; as: SocketType } | { ok: false; reason: string };

/**
 * Whether a new edge may be drawn, and why not: the core's socket compatibility, one edge per input, no cycle.
 * The reason is shown to the user as is.
 */
export function checkConnection(
  graph: GraphLike,
  catalog: EditorCatalog,
  request: ConnectionRequest,
): ConnectionCheck {
  const { source, sourceHandle, target, targetHandle } = request;
  if (source === target) return { ok: false, reason: 'a node cannot feed itself' };
  const from = graph.nodes.find((n) => n.id === source);
  const to = graph.nodes.find((n) => n.id === target);
  if (!from || !to) return { ok: false, reason: 'the node no longer exists' };
  const fromRow = catalog.byType.get(from.data.type);
  const toRow = catalog.byType.get(to.data.type);
  if (!fromRow) return { ok: false, reason: `unknown node type '${from.data.type}'` };
  if (!toRow) return { ok: false, reason: `unknown node type '${to.data.type}'` };
  const output = fromRow.outputs.find((o) => o.name === sourceHandle);
  const input = toRow.inputs.find((i) => i.name === targetHandle);
  if (!output) return { ok: false, reason: `${source} has no output '${sourceHandle}'` };
  if (!input) return { ok: false, reason: `${target} has no input '${targetHandle}'` };
  const as = resolveSocketConnection(output.type, input.types);
  if (as === undefined) {
    return {
      ok: false,
      reason: `${output.type} cannot connect to ${target}.${targetHandle}, which takes ${input.types.join(' or ')}`,
    };
  }
  if (graph.edges.some((e) => e.target === target && e.targetHandle === targetHandle)) {
    return { ok: false, reason: `${target}.${targetHandle} is already connected (an input takes one edge)` };
  }
  // The new edge closes a cycle when the source already depends on the target.
  const upstream = upstreamOf(
    [source],
    graph.edges.map((e) => ({ from: e.source, to: e.target })),
  );
  if (upstream.has(target)) return { ok: false, reason: `connecting would make a cycle through ${target}` };
  return { ok: true, outputType: output.type, as };
}

/** Node types with an input that accepts `type`, or an output `accepts` takes, for the "drop a link" search. */
export function compatibleTargets(
  catalog: EditorCatalog,
  side: 'input' | 'output',
  types: readonly SocketType[],
): { type: string; handle: string }[] {
  const out: { type: string; handle: string }[] = [];
  for (const row of catalog.byType.values()) {
    if (side === 'input') {
      // The dragged handle is an output of type types[0]; find an input taking it.
      const input = row.inputs.find((i) => resolveSocketConnection(types[0], i.types) !== undefined);
      if (input) out.push({ type: row.type, handle: input.name });
    } else {
      const output = row.outputs.find((o) => resolveSocketConnection(o.type, types) !== undefined);
      if (output) out.push({ type: row.type, handle: output.name });
    }
  }
  return out;
}
