/** `[fromNode, output, toNode, input]` → a workflow edge with id `e<i>`; use as `[...].map(toEdge)`. */
export function toEdge(
  [fromNode, output, toNode, input]: readonly string[],
  i: number,
): { id: string; from: { node: string; output: string }; to: { node: string; input: string } } {
  return { id: `e${i}`, from: { node: fromNode, output }, to: { node: toNode, input } };
}

/** A workflow document for tests: nodes as given, edges as `[fromNode, output, toNode, input]` rows. */
export function workflowDoc(name: string, nodes: readonly unknown[], edges: readonly (readonly string[])[]) {
  return { format: 'diffedit-studio.workflow', version: 1, name, nodes, edges: edges.map(toEdge) };
}
