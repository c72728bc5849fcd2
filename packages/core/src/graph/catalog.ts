import { acceptedTypes, isInputRequired } from './node-definition.js';
import type { NodeDefinition } from './node-definition.js';
import type { ParamKind, ParamValue } from './params.js';
import type { SocketType } from './sockets.js';

/** The node types a runtime knows. Later packages register their nodes into one of these. */
export class NodeCatalog {
  private readonly byType = new Map<string, NodeDefinition>();

  constructor(definitions: Iterable<NodeDefinition> = []) {
    for (const def of definitions) this.register(def);
  }

  register(def: NodeDefinition): this {
    if (this.byType.has(def.type)) throw new Error(`node type '${def.type}' is already registered`);
    this.byType.set(def.type, def);
    return this;
  }

  get(type: string): NodeDefinition | undefined {
    return this.byType.get(type);
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  list(): NodeDefinition[] {
    return [...this.byType.values()];
  }

  /** JSON description of every node, for the editor's palette and the API. */
  toJSON(): SerializedNodeDefinition[] {
    return this.list().map(serializeNodeDefinition);
  }
}

export interface SerializedInput {
  name: string;
  types: SocketType[];
  required: boolean;
  label?: string;
  description?: string;
}

export interface SerializedParam {
  name: string;
  kind: ParamKind;
  default: ParamValue;
  min?: number;
  max?: number;
  step?: number;
  options?: string[];
  extensions?: string[];
  modelType?: string;
  label?: string;
  description?: string;
}

export interface SerializedOutput {
  name: string;
  type: SocketType;
  label?: string;
  description?: string;
}

export interface SerializedNodeDefinition {
  type: string;
  version: number;
  title: string;
  category: string;
  description: string;
  output: boolean;
  inputs: SerializedInput[];
  params: SerializedParam[];
  outputs: SerializedOutput[];
}

export function serializeNodeDefinition(def: NodeDefinition): SerializedNodeDefinition {
  return {
    type: def.type,
    version: def.version,
    title: def.title,
    category: def.category,
    description: def.description,
    output: def.output,
    inputs: Object.entries(def.inputs).map(([name, spec]) =>
      dropUndefined({
        name,
        types: [...acceptedTypes(spec)],
        required: isInputRequired(spec),
        label: spec.label,
        description: spec.description,
      }),
    ),
    params: Object.entries(def.params).map(([name, spec]) =>
      dropUndefined({
        name,
        kind: spec.kind,
        default: spec.default,
        min: 'min' in spec ? spec.min : spec.kind === 'seed' ? 0 : undefined,
        max: 'max' in spec ? spec.max : undefined,
        step: 'step' in spec ? spec.step : undefined,
        options: spec.kind === 'enum' ? [...spec.options] : undefined,
        extensions: spec.kind === 'file' && spec.extensions ? [...spec.extensions] : undefined,
        modelType: spec.kind === 'model' ? spec.modelType : undefined,
        label: spec.label,
        description: spec.description,
      }),
    ),
    outputs: Object.entries(def.outputs).map(([name, spec]) =>
      dropUndefined({ name, type: spec.type, label: spec.label, description: spec.description }),
    ),
  };
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
