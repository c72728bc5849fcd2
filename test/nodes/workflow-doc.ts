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

/** The inputs of a DiffEdit edit on the toy pack: the model, the red apple at 128², source and target prompts. */
export const EDIT_INPUT_NODES = [
  { id: 'model', type: 'LoadDiffusionModel', params: {} },
  { id: 'image', type: 'LoadImage', params: { image: 'red-apple-on-blue.png', width: 128, height: 128 } },
  { id: 'source', type: 'Text', params: { text: 'a red apple' } },
  { id: 'target', type: 'Text', params: { text: 'a green pear' } },
] as const;

/** Edge rows from EDIT_INPUT_NODES into a GenerateMask `mask`, a DDIMInvert `invert` and a MaskedDenoise `denoise`. */
export const MASK_EDGES = [
  ['model', 'model', 'mask', 'model'],
  ['image', 'image', 'mask', 'image'],
  ['source', 'text', 'mask', 'source'],
  ['target', 'text', 'mask', 'target'],
] as const;
export const INVERT_EDGES = [
  ['model', 'model', 'invert', 'model'],
  ['image', 'image', 'invert', 'image'],
  ['source', 'text', 'invert', 'prompt'],
] as const;
export const DENOISE_EDGES = [
  ['model', 'model', 'denoise', 'model'],
  ['invert', 'inverted', 'denoise', 'inverted'],
  ['mask', 'mask', 'denoise', 'mask'],
  ['target', 'text', 'denoise', 'prompt'],
] as const;
