import { NodeCatalog } from '@diffedit/core';
import type {
  InputSpec,
  NodeDefinition,
  OutputSpec,
  ParamSpec,
  SerializedNodeDefinition,
  SerializedParam,
  SocketType,
} from '@diffedit/core';

/** The catalog as the editor uses it: the core's spec catalog plus the JSON rows the palette is built from. */
export interface EditorCatalog {
  /** What validateWorkflow / computeCacheKeys take. */
  specs: NodeCatalog;
  /** By node type, in server order. */
  byType: ReadonlyMap<string, SerializedNodeDefinition>;
  /** Category → node types, categories in first-seen order. */
  categories: ReadonlyMap<string, SerializedNodeDefinition[]>;
}

// Bridge until the contract branch's `catalogFromJSON` lands in core: rebuilds specs from GET /api/nodes JSON.
// Only the spec fields are read; `run` is never called by validation or key computation.
function paramSpec(p: SerializedParam): ParamSpec {
  const base = { label: p.label, description: p.description };
  switch (p.kind) {
    case 'number':
    case 'int':
      return { ...base, kind: p.kind, default: Number(p.default), min: p.min, max: p.max, step: p.step };
    case 'seed':
      return { ...base, kind: 'seed', default: Number(p.default) };
    case 'enum':
      return { ...base, kind: 'enum', options: p.options ?? [], default: String(p.default) };
    case 'bool':
      return { ...base, kind: 'bool', default: Boolean(p.default) };
    case 'file':
      return { ...base, kind: 'file', default: String(p.default), extensions: p.extensions };
    case 'model':
      return { ...base, kind: 'model', default: String(p.default), modelType: p.modelType };
    case 'string':
    case 'text':
      return { ...base, kind: p.kind, default: String(p.default) };
  }
}

function specFromJSON(row: SerializedNodeDefinition): NodeDefinition {
  const inputs: Record<string, InputSpec> = {};
  for (const i of row.inputs)
    inputs[i.name] = { type: i.types, required: i.required, label: i.label, description: i.description };
  const params: Record<string, ParamSpec> = {};
  for (const p of row.params) params[p.name] = paramSpec(p);
  const outputs: Record<string, OutputSpec> = {};
  for (const o of row.outputs) outputs[o.name] = { type: o.type, label: o.label, description: o.description };
  const readsWorkflow = (row as { readsWorkflow?: boolean }).readsWorkflow ?? row.type === 'SaveImage';
  return {
    type: row.type,
    version: row.version,
    title: row.title,
    category: row.category,
    description: row.description,
    inputs,
    params,
    outputs,
    output: row.output,
    readsWorkflow,
    run: () => Promise.reject(new Error('the editor does not run nodes')),
  };
}

export function editorCatalog(json: readonly SerializedNodeDefinition[]): EditorCatalog {
  const specs = new NodeCatalog(json.map(specFromJSON));
  const byType = new Map(json.map((row) => [row.type, row]));
  const categories = new Map<string, SerializedNodeDefinition[]>();
  for (const row of json) {
    const list = categories.get(row.category) ?? [];
    list.push(row);
    categories.set(row.category, list);
  }
  return { specs, byType, categories };
}

export function paramSpecOf(catalog: EditorCatalog, type: string, name: string): ParamSpec | undefined {
  return catalog.specs.get(type)?.params[name];
}

export function outputType(catalog: EditorCatalog, type: string, output: string): SocketType | undefined {
  return catalog.byType.get(type)?.outputs.find((o) => o.name === output)?.type;
}

export function inputTypes(catalog: EditorCatalog, type: string, input: string): SocketType[] | undefined {
  return catalog.byType.get(type)?.inputs.find((i) => i.name === input)?.types;
}
