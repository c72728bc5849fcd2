import { edgeId, freshNodeId } from './convert.js';
import type { FlowEdge, FlowNode } from './convert.js';

/** What copy puts on the clipboard: the selected nodes and the edges between them. */
export interface Fragment {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export function copyFragment(
  nodes: readonly FlowNode[],
  edges: readonly FlowEdge[],
  ids: ReadonlySet<string>,
): Fragment {
  return {
    nodes: nodes.filter((n) => ids.has(n.id)).map((n) => ({ ...n, data: structuredClone(n.data) })),
    edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
  };
}

/**
 * Copies of a fragment's nodes with fresh ids, moved by `offset`, and its inner edges rewired to them. The
 * copies come selected (and nothing else should be).
 */
export function pasteFragment(
  fragment: Fragment,
  takenIds: ReadonlySet<string>,
  offset: { x: number; y: number },
): Fragment {
  const taken = new Set(takenIds);
  const rename = new Map<string, string>();
  const nodes = fragment.nodes.map((n) => {
    const id = freshNodeId(n.data.type, taken);
    taken.add(id);
    rename.set(n.id, id);
    return {
      id,
      type: n.type,
      position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
      data: structuredClone(n.data),
      selected: true,
    } satisfies FlowNode;
  });
  const edges = fragment.edges.map((e) => {
    const source = rename.get(e.source)!;
    const target = rename.get(e.target)!;
    return {
      id: edgeId(source, e.sourceHandle ?? '', target, e.targetHandle ?? ''),
      source,
      sourceHandle: e.sourceHandle,
      target,
      targetHandle: e.targetHandle,
    };
  });
  return { nodes, edges };
}
