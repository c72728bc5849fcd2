import { z } from 'zod';

import { NodeCatalog } from './catalog.js';
import { acceptedTypes, isInputRequired } from './node-definition.js';
import type { InputSpec, NodeSpec, OutputSpec } from './node-definition.js';
import { checkParamValue, MAX_SEED } from './params.js';
import type { ParamKind, ParamSpec, ParamValue } from './params.js';
import { SOCKET_TYPES } from './sockets.js';
import type { SocketType } from './sockets.js';

// The catalog's JSON format, both ways, in one place: serializeNodeSpec writes it, catalogFromJSON reads it
// back. A field added to a spec must be added to both (the round-trip test over the built-in catalog checks).

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
  /** true: `min` itself is refused (value > min). */
  exclusiveMin?: boolean;
  /** true: `max` itself is refused (value < max). */
  exclusiveMax?: boolean;
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
  readsWorkflow: boolean;
  inputs: SerializedInput[];
  params: SerializedParam[];
  outputs: SerializedOutput[];
}

export function serializeNodeSpec(spec: NodeSpec): SerializedNodeDefinition {
  return {
    type: spec.type,
    version: spec.version,
    title: spec.title,
    category: spec.category,
    description: spec.description,
    output: spec.output,
    readsWorkflow: spec.readsWorkflow,
    inputs: Object.entries(spec.inputs).map(([name, input]) =>
      dropUndefined({
        name,
        types: [...acceptedTypes(input)],
        required: isInputRequired(input),
        label: input.label,
        description: input.description,
      }),
    ),
    params: Object.entries(spec.params).map(([name, param]) => serializeParam(name, param)),
    outputs: Object.entries(spec.outputs).map(([name, output]) =>
      dropUndefined({ name, type: output.type, label: output.label, description: output.description }),
    ),
  };
}

function serializeParam(name: string, spec: ParamSpec): SerializedParam {
  const common = { name, kind: spec.kind, default: spec.default };
  const tail = { label: spec.label, description: spec.description };
  switch (spec.kind) {
    case 'number':
    case 'int':
      return dropUndefined({
        ...common,
        min: spec.min,
        max: spec.max,
        exclusiveMin: spec.exclusiveMin,
        exclusiveMax: spec.exclusiveMax,
        step: spec.step,
        ...tail,
      });
    case 'seed':
      // A seed's range is implicit in its kind; it is spelt out for widgets.
      return dropUndefined({ ...common, min: 0, max: MAX_SEED, ...tail });
    case 'enum':
      return dropUndefined({ ...common, options: [...spec.options], ...tail });
    case 'file':
      return dropUndefined({
        ...common,
        extensions: spec.extensions ? [...spec.extensions] : undefined,
        ...tail,
      });
    case 'model':
      return dropUndefined({ ...common, modelType: spec.modelType, ...tail });
    default:
      return dropUndefined({ ...common, ...tail });
  }
}

// ---- reading it back ----

const Text = z.string();
const Described = { label: Text.optional(), description: Text.optional() };
const Socket = z.enum(SOCKET_TYPES);

const NumberParam = z.strictObject({
  name: Text,
  kind: z.enum(['number', 'int']),
  default: z.number(),
  min: z.number().optional(),
  max: z.number().optional(),
  exclusiveMin: z.boolean().optional(),
  exclusiveMax: z.boolean().optional(),
  step: z.number().optional(),
  ...Described,
});
const SeedParam = z.strictObject({
  name: Text,
  kind: z.literal('seed'),
  default: z.number(),
  min: z.literal(0).optional(),
  max: z.literal(MAX_SEED).optional(),
  ...Described,
});
const StringParam = z.strictObject({
  name: Text,
  kind: z.enum(['string', 'text']),
  default: Text,
  ...Described,
});
const EnumParam = z.strictObject({
  name: Text,
  kind: z.literal('enum'),
  default: Text,
  options: z.array(Text).min(1),
  ...Described,
});
const BoolParam = z.strictObject({ name: Text, kind: z.literal('bool'), default: z.boolean(), ...Described });
const FileParam = z.strictObject({
  name: Text,
  kind: z.literal('file'),
  default: Text,
  extensions: z.array(Text).optional(),
  ...Described,
});
const ModelParam = z.strictObject({
  name: Text,
  kind: z.literal('model'),
  default: Text,
  modelType: Text.optional(),
  ...Described,
});
const ParamJson = z.discriminatedUnion('kind', [
  NumberParam,
  SeedParam,
  StringParam,
  EnumParam,
  BoolParam,
  FileParam,
  ModelParam,
]);

const NodeJson = z.strictObject({
  type: Text,
  version: z.number().int().min(1),
  title: Text,
  category: Text,
  description: Text,
  output: z.boolean(),
  readsWorkflow: z.boolean(),
  inputs: z.array(
    z.strictObject({ name: Text, types: z.array(Socket).min(1), required: z.boolean(), ...Described }),
  ),
  params: z.array(ParamJson),
  outputs: z.array(z.strictObject({ name: Text, type: Socket, ...Described })),
});

/** The catalog JSON's zod schema (strict: an unknown field is an error), for APIs that serve or check it. */
export const SerializedCatalogSchema = z.array(NodeJson);

/** Raised by catalogFromJSON for JSON that is not a catalog; the message names the offending field. */
export class CatalogJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogJsonError';
  }
}

/**
 * Rebuilds a catalog of node specs from the catalog's JSON (`catalog.toJSON()`, `diffedit nodes`, the API's
 * node list). Lossless: `catalogFromJSON(json).toJSON()` equals `json`, and the result gives the same
 * validation results and cache keys as the catalog that wrote it. Throws CatalogJsonError on malformed input.
 */
export function catalogFromJSON(json: unknown): NodeCatalog<NodeSpec> {
  const parsed = SerializedCatalogSchema.safeParse(json);
  if (!parsed.success) throw new CatalogJsonError(`not a node catalog: ${z.prettifyError(parsed.error)}`);
  const catalog = new NodeCatalog<NodeSpec>();
  for (const node of parsed.data) {
    const params: Record<string, ParamSpec> = {};
    for (const param of node.params) {
      const spec = paramSpecFromJson(param);
      const problem = checkParamValue(spec, spec.default);
      if (problem !== undefined) {
        throw new CatalogJsonError(`${node.type}: default of param '${param.name}' is invalid: ${problem}`);
      }
      params[param.name] = spec;
    }
    const inputs: Record<string, InputSpec> = {};
    for (const { name, types, required, label, description } of node.inputs) {
      inputs[name] = dropUndefined({
        type: types.length === 1 ? types[0] : types,
        required,
        label,
        description,
      });
    }
    const outputs: Record<string, OutputSpec> = {};
    for (const { name, type, label, description } of node.outputs) {
      outputs[name] = dropUndefined({ type, label, description });
    }
    try {
      catalog.register({
        type: node.type,
        version: node.version,
        title: node.title,
        category: node.category,
        description: node.description,
        output: node.output,
        readsWorkflow: node.readsWorkflow,
        inputs,
        params,
        outputs,
      });
    } catch (caught) {
      throw new CatalogJsonError(caught instanceof Error ? caught.message : String(caught));
    }
  }
  return catalog;
}

function paramSpecFromJson(param: z.infer<typeof ParamJson>): ParamSpec {
  const { name: _name, ...rest } = param;
  if (rest.kind === 'seed') {
    const { min: _min, max: _max, ...seed } = rest;
    return dropUndefined(seed);
  }
  return dropUndefined(rest) as ParamSpec;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
