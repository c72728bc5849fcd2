import { checkParamValue } from './params.js';
import type { ParamSpecs, ParamValue, ParamValues } from './params.js';
import type { ServiceRegistry } from './services.js';
import type { SocketType, SocketValue } from './sockets.js';
import type { Workflow } from '../workflow/schema.js';

export interface InputSpec {
  /** The socket type accepted, or several (e.g. ['TEXT', 'EMBEDDING']). */
  type: SocketType | readonly SocketType[];
  /** Defaults to true. */
  required?: boolean;
  label?: string;
  description?: string;
}

export interface OutputSpec {
  type: SocketType;
  label?: string;
  description?: string;
}

export type InputSpecs = Readonly<Record<string, InputSpec>>;
export type OutputSpecs = Readonly<Record<string, OutputSpec>>;

type AcceptedType<S extends InputSpec> = S['type'] extends readonly SocketType[]
  ? S['type'][number]
  : S['type'] extends SocketType
    ? S['type']
    : never;

type InputValue<S extends InputSpec> = SocketValue<AcceptedType<S>>;

/** The values `run` receives for its inputs; optional inputs may be undefined. */
export type InputValues<I extends InputSpecs> = {
  [K in keyof I]: I[K] extends { required: false } ? InputValue<I[K]> | undefined : InputValue<I[K]>;
};

/** What `run` must return: one value per declared output. */
export type OutputValues<O extends OutputSpecs> = { [K in keyof O]: SocketValue<O[K]['type']> };

/** A file produced by an output node (an image to save, a debug dump…). */
export interface Artifact {
  /** A plain file name, no folders: the CLI writes it into --out DIR. */
  name: string;
  mime: string;
  bytes: Uint8Array;
}

/** A small image (or other data) shown while a node works, e.g. the current denoising step. */
export interface ProgressPreview {
  mime: string;
  bytes: Uint8Array;
  width?: number;
  height?: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface NodeLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Everything a node's `run` may use besides its inputs and params. */
export interface NodeContext {
  readonly nodeId: string;
  readonly nodeType: string;
  readonly runId: string;
  /** Aborted when the run is cancelled; pass it to long operations. */
  readonly signal: AbortSignal;
  /** Reports progress; throws if the run was cancelled, so loops that report progress stop promptly. */
  progress(step: number, total: number, preview?: ProgressPreview): void;
  /** Throws if the run was cancelled. */
  throwIfAborted(): void;
  readonly log: NodeLogger;
  readonly services: ServiceRegistry;
  /**
   * The whole workflow document of the run (params with defaults filled in; the full graph even when the run
   * is limited to targets), for nodes defined with `readsWorkflow` (SaveImage embeds it in PNGs); undefined
   * for the others.
   */
  readonly workflow?: Workflow;
  /** Emits a file; only output nodes should. Kept with the cached result and re-emitted on cache hits. */
  emitFile(artifact: Artifact): void;
  /**
   * Tells the user the node ran but probably not as meant (a prompt cut off, a mask that covers everything…):
   * a `node:warning` event and an entry in RunResult.warnings. Kept with the cached result, like files.
   */
  warn(warning: NodeWarningInit): void;
}

/** A warning a node raises: a stable `code`, a message in the user's words, and the param or input at fault. */
export interface NodeWarningInit {
  code: string;
  message: string;
  field?: string;
}

export interface NodeDefinitionInit<I extends InputSpecs, P extends ParamSpecs, O extends OutputSpecs> {
  /** Unique type name, e.g. 'TextTemplate'. */
  type: string;
  /** Bump when the node's behaviour changes, so cached results of the old version are not reused. */
  version: number;
  title: string;
  category: string;
  description: string;
  inputs: I;
  params: P;
  outputs: O;
  /** An output node is a target of a run (save, preview, debug). */
  output?: boolean;
  /**
   * Whether `run` reads `ctx.workflow`. The whole document then enters the node's cache key, so a cached
   * result (a PNG embedding the graph) is never reused for a different graph.
   */
  readsWorkflow?: boolean;
  /**
   * Computes the outputs. Must be deterministic given inputs, params and files (draw random numbers from a
   * `seed` param), and must not modify its inputs: they may be cached results shared with other nodes.
   */
  run(ctx: NodeContext, inputs: InputValues<I>, params: ParamValues<P>): Promise<OutputValues<O>>;
}

/**
 * What a node is, without how it runs: everything validation, planning, cache keys and the editor's widgets
 * need. Plain data (browser-safe); `catalogFromJSON` rebuilds specs from the catalog's JSON without loss.
 */
export interface NodeSpec {
  readonly type: string;
  /** Bumped when the node's behaviour changes; part of its cache key. */
  readonly version: number;
  readonly title: string;
  readonly category: string;
  readonly description: string;
  readonly inputs: InputSpecs;
  readonly params: ParamSpecs;
  readonly outputs: OutputSpecs;
  /** An output node is a target of a run (save, preview, debug). */
  readonly output: boolean;
  /** `run` reads the whole workflow document, so the document enters the node's cache key. */
  readonly readsWorkflow: boolean;
}

/** A node definition with its types erased, as held by the runtime's catalog and called by the executor. */
export interface NodeDefinition extends NodeSpec {
  run(
    ctx: NodeContext,
    inputs: Record<string, unknown>,
    params: Record<string, ParamValue>,
  ): Promise<Record<string, unknown>>;
}

const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_.:-]*$/;
const SOCKET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Declares a node. Inside `run`, inputs and params are typed from the declarations (use `as const`-free
 * literals; the generic parameters are `const`).
 */
export function defineNode<
  const I extends InputSpecs,
  const P extends ParamSpecs,
  const O extends OutputSpecs,
>(init: NodeDefinitionInit<I, P, O>): NodeDefinition {
  if (!TYPE_NAME.test(init.type)) throw new Error(`defineNode: invalid node type name '${init.type}'`);
  if (!Number.isInteger(init.version) || init.version < 1) {
    throw new Error(`defineNode(${init.type}): version must be a positive integer`);
  }
  for (const group of ['inputs', 'params', 'outputs'] as const) {
    for (const name of Object.keys(init[group])) {
      if (!SOCKET_NAME.test(name))
        throw new Error(`defineNode(${init.type}): invalid ${group} name '${name}'`);
    }
  }
  // A default the validator would reject would make every workflow that omits the param invalid.
  for (const [name, spec] of Object.entries(init.params)) {
    const problem = checkParamValue(spec, spec.default);
    if (problem !== undefined) {
      throw new Error(`defineNode(${init.type}): default of param '${name}' is invalid: ${problem}`);
    }
  }
  const run = init.run as NodeDefinition['run'];
  return Object.freeze({
    type: init.type,
    version: init.version,
    title: init.title,
    category: init.category,
    description: init.description,
    inputs: init.inputs,
    params: init.params,
    outputs: init.outputs,
    output: init.output ?? false,
    readsWorkflow: init.readsWorkflow ?? false,
    run,
  });
}

export function isInputRequired(spec: InputSpec): boolean {
  return spec.required !== false;
}

export function acceptedTypes(spec: InputSpec): readonly SocketType[] {
  return typeof spec.type === 'string' ? [spec.type] : spec.type;
}
