import { catalogFromJSON } from '@diffedit/core';
import type { NodeCatalog, NodeSpec, SerializedNodeDefinition, SocketType } from '@diffedit/core';

/** The catalog as the editor uses it: the core's spec catalog plus the JSON rows the palette is built from. */
export interface EditorCatalog {
  /** Rebuilt by the core's catalogFromJSON: what validation and cache keys take. */
  specs: NodeCatalog<NodeSpec>;
  /** By node type, in server order. */
  byType: ReadonlyMap<string, SerializedNodeDefinition>;
  /** Category → node types, categories in first-seen order. */
  categories: ReadonlyMap<string, SerializedNodeDefinition[]>;
}

/** Builds the editor's catalog from GET /api/nodes (throws, naming the problem, on anything else). */
export function editorCatalog(json: unknown): EditorCatalog {
  const specs = catalogFromJSON(json);
  const rows = json as SerializedNodeDefinition[];
  const byType = new Map(rows.map((row) => [row.type, row]));
  const categories = new Map<string, SerializedNodeDefinition[]>();
  for (const row of rows) {
    const list = categories.get(row.category) ?? [];
    list.push(row);
    categories.set(row.category, list);
  }
  return { specs, byType, categories };
}

export function outputType(catalog: EditorCatalog, type: string, output: string): SocketType | undefined {
  return catalog.byType.get(type)?.outputs.find((o) => o.name === output)?.type;
}

export function inputTypes(catalog: EditorCatalog, type: string, input: string): SocketType[] | undefined {
  return catalog.byType.get(type)?.inputs.find((i) => i.name === input)?.types;
}
