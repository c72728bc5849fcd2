import type { NodeDefinition, NodeSpec } from './node-definition.js';
import { serializeNodeSpec } from './catalog-json.js';
import type { SerializedNodeDefinition } from './catalog-json.js';

/**
 * What validation, planning and cache keys need from a catalog: the spec of a node type. Both the runtime's
 * catalog of definitions and a catalog rebuilt by `catalogFromJSON` (the editor's) satisfy it.
 */
export interface SpecCatalog {
  get(type: string): NodeSpec | undefined;
}

/**
 * The node types a runtime (definitions, with `run`) or a client (specs only, from `catalogFromJSON`) knows.
 */
export class NodeCatalog<D extends NodeSpec = NodeDefinition> implements SpecCatalog {
  private readonly byType = new Map<string, D>();

  constructor(definitions: Iterable<D> = []) {
    for (const def of definitions) this.register(def);
  }

  register(def: D): this {
    if (this.byType.has(def.type)) throw new Error(`node type '${def.type}' is already registered`);
    this.byType.set(def.type, def);
    return this;
  }

  get(type: string): D | undefined {
    return this.byType.get(type);
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  list(): D[] {
    return [...this.byType.values()];
  }

  /**
   * JSON description of every node (what `diffedit nodes` prints and the API serves); `catalogFromJSON` turns
   * it back into a catalog that validates and keys workflows exactly as this one does.
   */
  toJSON(): SerializedNodeDefinition[] {
    return this.list().map(serializeNodeSpec);
  }
}
