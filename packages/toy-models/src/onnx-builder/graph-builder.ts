import { ONNX_ATTRIBUTE_TYPE, ONNX_DATA_TYPE, ONNX_EXTERNAL_DATA_LOCATION, onnxType } from './onnx-schema.js';

/** Element types the builder can declare for graph inputs/outputs and constants. */
export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';

/** A dimension: a fixed size or a symbolic name such as 'batch'. */
export type Dim = number | string;

/** Typed arrays accepted as constant data (Uint8Array = bool, Uint16Array = float16 bit patterns). */
export type TensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

/** An explicitly typed float attribute (a plain integral number would otherwise be written as an int). */
export class FloatAttr {
  constructor(readonly value: number) {}
}
/** An explicitly typed float-list attribute. */
export class FloatsAttr {
  constructor(readonly values: readonly number[]) {}
}
/** A tensor-valued attribute (e.g. ConstantOfShape's `value`). */
export class TensorAttr {
  constructor(
    readonly data: TensorData,
    readonly dims: readonly number[],
    readonly dtype: DType,
  ) {}
}

export type AttrValue =
  | number
  | readonly number[]
  | string
  | readonly string[]
  | FloatAttr
  | FloatsAttr
  | TensorAttr
  | GraphBuilder;
export type Attrs = Record<string, AttrValue>;

export interface OpOptions {
  /** Node name (default: `<opType>_<n>`). */
  name?: string;
  /** Operator domain (default: the ONNX domain ''). */
  domain?: string;
  /** Preferred name for the (first) output value; made unique if taken. */
  outputName?: string;
}

export interface ModelOptions {
  /** Default-domain opset (default 17). */
  opsetVersion?: number;
  /** ONNX IR version (default 8, the IR of opset 17). */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Extra opset imports, e.g. { 'com.microsoft': 1 }. */
  extraOpsets?: Record<string, number>;
}

export interface ExternalDataOptions {
  /** File name of the weights file, relative to the .onnx file (e.g. 'model.onnx_data'). */
  location: string;
  /** Initializers with at least this many bytes go to the external file (default 1024). */
  minBytes?: number;
}

export interface ModelFiles {
  model: Uint8Array;
  externalData: Uint8Array;
}

// ---- plain message shapes handed to protobufjs ----
interface DimMsg {
  dimValue?: number;
  dimParam?: string;
}
interface ValueInfoMsg {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: DimMsg[] } } };
}
interface StringEntryMsg {
  key: string;
  value: string;
}
interface TensorMsg {
  name?: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  externalData?: StringEntryMsg[];
  dataLocation?: number;
}
interface AttributeMsg {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMsg;
  g?: GraphMsg;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}
interface NodeMsg {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain?: string;
  attribute: AttributeMsg[];
}
/** A node as held while building: graph attributes stay builders until the model is written. */
interface PendingNode extends Omit<NodeMsg, 'attribute'> {
  attribute: (AttributeMsg | SubgraphAttr)[];
}
interface SubgraphAttr {
  name: string;
  type: number;
  subgraph: GraphBuilder;
}
interface GraphMsg {
  node: NodeMsg[];
  name: string;
  initializer: TensorMsg[];
  input: ValueInfoMsg[];
  output: ValueInfoMsg[];
}

interface Initializer {
  name: string;
  dims: number[];
  dtype: DType;
  bytes: Uint8Array;
}

const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float16: 2, int64: 8, int32: 4, bool: 1 };
const EXTERNAL_ALIGNMENT = 64;

function dtypeOfArray(data: TensorData): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint16Array) return 'float16';
  return 'bool';
}

/** Little-endian bytes of a typed array (copied, so later edits of the array cannot change the model). */
function rawBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function checkDims(data: TensorData, dims: readonly number[], what: string): number[] {
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0)
      throw new Error(`${what}: invalid dimension ${d} in [${dims.join(', ')}]`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(
      `${what}: shape [${dims.join(', ')}] holds ${count} elements but the data has ${data.length}`,
    );
  }
  return [...dims];
}

const utf8 = new TextEncoder();

/**
 * Builds an ONNX graph value by value and serialises it to deterministic ModelProto bytes.
 * Every method returns value names (strings) that later ops take as inputs; names are unique within the graph
 * (and its subgraphs), auto-suffixed when a requested name is taken.
 */
export class GraphBuilder {
  private readonly nodes: PendingNode[] = [];
  private readonly inputs: ValueInfoMsg[] = [];
  private readonly outputs: ValueInfoMsg[] = [];
  private readonly initializers: Initializer[] = [];
  /** Values visible in this graph: inputs, initializers, node outputs. */
  private readonly known = new Set<string>();
  /** Names in use across the whole model (shared with subgraphs). */
  private readonly used: Set<string>;
  private readonly counters: Map<string, number>;
  /** Output renames (old value name → graph output name), shared with subgraphs; applied when serialising. */
  private readonly aliases: Map<string, string>;
  /** Value name → index of the node that produces it. */
  private readonly producer = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly parent?: GraphBuilder,
  ) {
    this.used = parent ? parent.used : new Set<string>();
    this.counters = parent ? parent.counters : new Map<string, number>();
    this.aliases = parent ? parent.aliases : new Map<string, string>();
  }

  // ---- attribute helpers ----
  float(value: number): FloatAttr {
    return new FloatAttr(value);
  }
  floats(values: readonly number[]): FloatsAttr {
    return new FloatsAttr(values);
  }
  attrTensor(data: TensorData, dims: readonly number[], dtype: DType = dtypeOfArray(data)): TensorAttr {
    return new TensorAttr(data, checkDims(data, dims, 'attrTensor'), dtype);
  }
  /** A nested graph (If/Loop/Scan body) that may read values of this graph; pass it as an attribute. */
  subgraph(name: string): GraphBuilder {
    return new GraphBuilder(name, this);
  }

  // ---- values ----
  input(name: string, dtype: DType, shape: readonly Dim[]): string {
    this.claim(name, `input '${name}'`);
    this.inputs.push(valueInfo(name, dtype, shape));
    return name;
  }

  /** An initializer. Uint8Array is bool, Uint16Array float16 bits, unless `dtype` says otherwise. */
  constant(
    data: TensorData,
    dims: readonly number[],
    name = 'const',
    dtype: DType = dtypeOfArray(data),
  ): string {
    const checked = checkDims(data, dims, `constant '${name}'`);
    if (data.BYTES_PER_ELEMENT !== BYTES_PER_ELEMENT[dtype]) {
      throw new Error(`constant '${name}': a ${data.constructor.name} cannot hold ${dtype} elements`);
    }
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims: checked, dtype, bytes: rawBytes(data) });
    return unique;
  }

  /** A float32 scalar (rank 0) constant. */
  scalar(value: number, name = 'scalar'): string {
    return this.constant(new Float32Array([value]), [], name);
  }

  /** An int64 scalar (rank 0) constant. */
  scalarInt64(value: bigint | number, name = 'scalar_i64'): string {
    return this.constant(new BigInt64Array([BigInt(value)]), [], name);
  }

  /** An int64 vector constant (shapes, axes, pads, …). */
  int64s(values: readonly (bigint | number)[], name = 'ints'): string {
    return this.constant(
      BigInt64Array.from(values, (v) => BigInt(v)),
      [values.length],
      name,
    );
  }

  op(opType: string, inputs: readonly string[], attrs: Attrs = {}, options: OpOptions = {}): string {
    return this.opMulti(opType, inputs, attrs, 1, options)[0];
  }

  opMulti(
    opType: string,
    inputs: readonly string[],
    attrs: Attrs,
    outputCount: number,
    options: OpOptions = {},
  ): string[] {
    const nodeName = this.unique(options.name ?? opType);
    for (const input of inputs) {
      if (input !== '' && !this.isVisible(input)) {
        throw new Error(
          `${opType} node '${nodeName}': input '${input}' is not a value of graph '${this.name}'`,
        );
      }
    }
    if (!Number.isInteger(outputCount) || outputCount < 1) {
      throw new Error(
        `${opType} node '${nodeName}': output count must be a positive integer, got ${outputCount}`,
      );
    }
    const base = options.outputName ?? `${nodeName}_out`;
    const outputs = Array.from({ length: outputCount }, (_, i) =>
      this.unique(i === 0 ? base : `${base}${i}`),
    );
    const index = this.nodes.length;
    for (const out of outputs) this.producer.set(out, index);
    this.nodes.push({
      input: [...inputs],
      output: outputs,
      name: nodeName,
      opType,
      ...(options.domain ? { domain: options.domain } : {}),
      attribute: Object.keys(attrs)
        .sort()
        .map((key) => this.attribute(key, attrs[key], `${opType} node '${nodeName}'`)),
    });
    return outputs;
  }

  /**
   * Declares `value` as a graph output called `name`. A node output is renamed in place; a graph input or
   * initializer is passed through an Identity node.
   */
  output(value: string, name: string, dtype: DType, shape: readonly Dim[]): string {
    if (!this.isVisible(value))
      throw new Error(`output '${name}': '${value}' is not a value of graph '${this.name}'`);
    const index = this.producer.get(value);
    const isOutputAlready = this.outputs.some((o) => o.name === value);
    if (value !== name && index !== undefined && !isOutputAlready) {
      this.claim(name, `output '${name}'`);
      this.renameValue(value, name, index);
    } else if (value !== name) {
      this.claim(name, `output '${name}'`);
      this.nodes.push({
        input: [value],
        output: [name],
        name: this.unique(`Identity_${name}`),
        opType: 'Identity',
        attribute: [],
      });
      this.producer.set(name, this.nodes.length - 1);
    }
    this.outputs.push(valueInfo(name, dtype, shape));
    return name;
  }

  // ---- serialisation ----
  toModelBytes(options: ModelOptions & { externalData?: ExternalDataOptions } = {}): Uint8Array {
    if (options.externalData) {
      throw new Error('toModelBytes: externalData needs two files; call toModelFiles instead');
    }
    return this.encodeModel(options, this.graphMessage(undefined));
  }

  /** The model and its external weights file (initializers of at least `minBytes` go there, 64-byte aligned). */
  toModelFiles(options: ModelOptions & { externalData: ExternalDataOptions }): ModelFiles {
    const sink: ExternalSink = { ...options.externalData, chunks: [], size: 0 };
    const graph = this.graphMessage(sink);
    const externalData = new Uint8Array(sink.size);
    let offset = 0;
    for (const chunk of sink.chunks) {
      offset = align(offset);
      externalData.set(chunk, offset);
      offset += chunk.length;
    }
    return { model: this.encodeModel(options, graph), externalData };
  }

  // ---- internals ----
  private encodeModel(options: ModelOptions, graph: GraphMsg): Uint8Array {
    if (this.parent) throw new Error(`graph '${this.name}' is a subgraph; serialise its outermost graph`);
    const opsets = [{ domain: '', version: options.opsetVersion ?? 17 }];
    for (const [domain, version] of Object.entries(options.extraOpsets ?? {}).sort()) {
      opsets.push({ domain, version });
    }
    const model = {
      irVersion: options.irVersion ?? 8,
      producerName: options.producerName ?? 'diffedit-studio',
      ...(options.producerVersion ? { producerVersion: options.producerVersion } : {}),
      ...(options.docString ? { docString: options.docString } : {}),
      graph,
      opsetImport: opsets,
    };
    const type = onnxType('ModelProto');
    const problem = type.verify(model);
    if (problem) throw new Error(`graph '${this.name}': invalid model message: ${problem}`);
    return type.encode(model).finish();
  }

  private graphMessage(sink: ExternalSink | undefined): GraphMsg {
    return {
      node: this.nodes.map((n) => ({
        ...n,
        input: n.input.map((i) => this.aliases.get(i) ?? i),
        attribute: n.attribute.map((a) =>
          'subgraph' in a ? { name: a.name, type: a.type, g: a.subgraph.graphMessage(sink) } : a,
        ),
      })),
      name: this.name,
      initializer: this.initializers.map((init) => tensorMessage(init, sink)),
      input: this.inputs,
      output: this.outputs,
    };
  }

  private attribute(name: string, value: AttrValue, where: string): AttributeMsg | SubgraphAttr {
    const T = ONNX_ATTRIBUTE_TYPE;
    if (value instanceof FloatAttr) return { name, type: T.FLOAT, f: value.value };
    if (value instanceof FloatsAttr) return { name, type: T.FLOATS, floats: [...value.values] };
    if (value instanceof TensorAttr) {
      return {
        name,
        type: T.TENSOR,
        t: tensorMessage({
          name: '',
          dims: [...value.dims],
          dtype: value.dtype,
          bytes: rawBytes(value.data),
        }),
      };
    }
    if (value instanceof GraphBuilder) {
      if (value.parent !== this)
        throw new Error(`${where}: attribute '${name}' is not a subgraph of this graph`);
      return { name, type: T.GRAPH, subgraph: value };
    }
    if (typeof value === 'string') return { name, type: T.STRING, s: utf8.encode(value) };
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new Error(`${where}: attribute '${name}' is not finite (${value})`);
      return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
    }
    if (value.length > 0 && value.every((v) => typeof v === 'string')) {
      return { name, type: T.STRINGS, strings: (value as readonly string[]).map((s) => utf8.encode(s)) };
    }
    const numbers = value as readonly number[];
    if (numbers.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
      throw new Error(`${where}: attribute '${name}' mixes types or holds non-finite numbers`);
    }
    return numbers.every((v) => Number.isInteger(v))
      ? { name, type: T.INTS, ints: [...numbers] }
      : { name, type: T.FLOATS, floats: [...numbers] };
  }

  private isVisible(value: string): boolean {
    return this.known.has(value) || (this.parent?.isVisible(value) ?? false);
  }

  private claim(name: string, what: string): void {
    if (name === '') throw new Error(`${what}: empty name`);
    if (this.used.has(name))
      throw new Error(`${what}: the name '${name}' is already used in graph '${this.name}'`);
    this.used.add(name);
    this.known.add(name);
  }

  private unique(base: string): string {
    let name = base;
    if (this.used.has(name)) {
      let n = this.counters.get(base) ?? 1;
      while (this.used.has(`${base}_${n}`)) n += 1;
      this.counters.set(base, n + 1);
      name = `${base}_${n}`;
    }
    this.used.add(name);
    this.known.add(name);
    return name;
  }

  /** Renames a node output; earlier and later references to the old name keep working (resolved on write). */
  private renameValue(from: string, to: string, producerIndex: number): void {
    const node = this.nodes[producerIndex];
    node.output = node.output.map((o) => (o === from ? to : o));
    this.producer.delete(from);
    this.producer.set(to, producerIndex);
    this.aliases.set(from, to);
  }
}

interface ExternalSink extends ExternalDataOptions {
  chunks: Uint8Array[];
  size: number;
}

function align(offset: number): number {
  return Math.ceil(offset / EXTERNAL_ALIGNMENT) * EXTERNAL_ALIGNMENT;
}

function tensorMessage(init: Initializer, sink?: ExternalSink): TensorMsg {
  const base = {
    ...(init.name ? { name: init.name } : {}),
    dims: init.dims,
    dataType: ONNX_DATA_TYPE[init.dtype],
  };
  if (!sink || init.bytes.length < (sink.minBytes ?? 1024)) return { ...base, rawData: init.bytes };
  const offset = align(sink.size);
  sink.chunks.push(init.bytes);
  sink.size = offset + init.bytes.length;
  return {
    ...base,
    dataLocation: ONNX_EXTERNAL_DATA_LOCATION,
    externalData: [
      { key: 'location', value: sink.location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(init.bytes.length) },
    ],
  };
}

function valueInfo(name: string, dtype: DType, shape: readonly Dim[]): ValueInfoMsg {
  return {
    name,
    type: {
      tensorType: {
        elemType: ONNX_DATA_TYPE[dtype],
        shape: {
          dim: shape.map((d) => {
            if (typeof d === 'string') return { dimParam: d };
            if (!Number.isInteger(d) || d < 0) throw new Error(`value '${name}': invalid dimension ${d}`);
            return { dimValue: d };
          }),
        },
      },
    },
  };
}
