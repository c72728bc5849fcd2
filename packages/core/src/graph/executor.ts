import type { ValidationIssue } from '../workflow/issues.js';
import type { Workflow, WorkflowEdge } from '../workflow/schema.js';
import { computeCacheKeys } from './cache-keys.js';
import type { ParamFingerprints } from './cache-keys.js';
import type { NodeCatalog } from './catalog.js';
import { describeOutputs, describeValue } from './events.js';
import type { ArtifactInfo, RunError, RunEvent, RunEventListener, RunWarning } from './events.js';
import { acceptedTypes } from './node-definition.js';
import type { Artifact, LogLevel, NodeContext, NodeDefinition, NodeWarningInit } from './node-definition.js';
import { NodeError, RunCancelledError } from './node-errors.js';
import { OutputCache } from './output-cache.js';
import type { CachedNodeResult } from './output-cache.js';
import { isFingerprintedKind } from './params.js';
import { ownValue } from './own.js';
import { outputNodes, planExecution } from './plan.js';
import { ServiceRegistry } from './services.js';
import { convertSocketValue, resolveSocketConnection } from './sockets.js';
import { upstreamOf } from './topology.js';
import { validateWorkflow } from './validate.js';
import type { ValidWorkflow } from './validate.js';
import { ValidationMemo } from './validation-memo.js';

/**
 * Fingerprint of what a file/model param points at (content hash of a file, sizes + mtimes of a model
 * folder). It enters the node's cache key, so editing the file re-runs the node.
 */
export type ParamFingerprinter = (
  kind: 'file' | 'model',
  value: string,
  where: { nodeId: string; param: string; signal: AbortSignal },
) => string | Promise<string>;

export interface ExecutorOptions {
  catalog: NodeCatalog;
  services?: ServiceRegistry;
  /** A cache to share; otherwise one with `cacheBytes` (default 1 GiB) and `variantsPerNode` is created. */
  cache?: OutputCache;
  cacheBytes?: number;
  /** Results the created cache keeps per node (default 4; 0: no limit): see OutputCache. */
  variantsPerNode?: number;
  /**
   * Without one, nodes with file/model params are never served from the cache (their inputs could have
   * changed on disk unnoticed), and neither is anything downstream of them.
   */
  fingerprintParam?: ParamFingerprinter;
  /**
   * Least time between two `node:progress` events of one node (default 50 ms); progress in between is
   * dropped except the last one, which is sent before the node finishes.
   */
  progressIntervalMs?: number;
  /** Clock for progress throttling, in milliseconds (default performance.now); tests pass a fake one. */
  now?: () => number;
}

export interface RunOptions {
  /** Run up to these nodes instead of every output node. */
  targets?: readonly string[];
  signal?: AbortSignal;
  onEvent?: RunEventListener;
  /**
   * Receives each file of the run (emitted now or re-emitted from the cache) just before the node's
   * node:done / node:cached event, so a server can store it where that event's readers can fetch it.
   */
  onArtifact?: (artifact: NodeArtifact) => void;
  /**
   * Sees each planned node's output values (computed now or served from the cache), awaited before the node's
   * node:done / node:cached event, so what it derives from them (a server's previews) goes out before that
   * event. It must not change the values; whatever it throws is ignored.
   */
  onNodeOutputs?: (node: NodeOutputs) => void | Promise<void>;
  runId?: string;
}

/** A node's output values, by output name, as onNodeOutputs receives them. */
export interface NodeOutputs {
  nodeId: string;
  nodeType: string;
  outputs: Readonly<Record<string, unknown>>;
  cached: boolean;
}

export type NodeRunStatus = 'cached' | 'ran' | 'failed' | 'cancelled' | 'pending';

export interface NodeRunRecord {
  nodeId: string;
  nodeType: string;
  status: NodeRunStatus;
  /** Time spent running (0 for cached nodes). */
  ms: number;
  cacheKey: string;
  artifacts: ArtifactInfo[];
}

export interface NodeArtifact extends Artifact {
  nodeId: string;
}

export interface RunResult {
  runId: string;
  status: 'done' | 'failed' | 'cancelled' | 'invalid';
  ms: number;
  /** Planned nodes in execution order. */
  nodes: NodeRunRecord[];
  /** Files emitted by the planned nodes, whether they ran now or came from the cache. */
  artifacts: NodeArtifact[];
  /** Outputs of the nodes that ran or were served from the cache, by node id. */
  outputs: Record<string, Record<string, unknown>>;
  /**
   * The fingerprints that entered the cache keys: node id → file/model param → fingerprint, for every node
   * the targets depend on. With the catalog's JSON and the workflow, a client recomputes the executor's keys
   * from them (`computeCanvasKeys`). Empty when the run never got to fingerprinting (invalid workflow).
   */
  fingerprints: ParamFingerprints;
  error?: RunError;
  issues?: ValidationIssue[];
  /** What the nodes warned about (ctx.warn), in the order raised, cached nodes included. */
  warnings: RunWarning[];
}

const DEFAULT_CACHE_BYTES = 1024 ** 3;
const DEFAULT_PROGRESS_INTERVAL_MS = 50;
const SAFE_FILE_NAME = /^(?!\.{1,2}$)[^/\\\0]{1,200}$/;

/** Whether `name` may name an artifact: a plain file name (no folders, not '.' or '..', at most 200 characters). */
export function isPlainFileName(name: string): boolean {
  return SAFE_FILE_NAME.test(name);
}

/** Runs validated workflows node by node, in topological order, reusing cached outputs across runs. */
export class Executor {
  readonly catalog: NodeCatalog;
  readonly services: ServiceRegistry;
  readonly cache: OutputCache;
  private readonly fingerprintParam: ParamFingerprinter | undefined;
  private readonly progressIntervalMs: number;
  private readonly now: () => number;
  private readonly memo = new ValidationMemo();

  constructor(options: ExecutorOptions) {
    this.progressIntervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    this.now = options.now ?? (() => performance.now());
    this.catalog = options.catalog;
    this.services = options.services ?? new ServiceRegistry();
    this.cache =
      options.cache ??
      new OutputCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES, {
        ...(options.variantsPerNode === undefined ? {} : { variantsPerNode: options.variantsPerNode }),
      });
    this.fingerprintParam = options.fingerprintParam;
  }

  /**
   * Runs a workflow. Never rejects: a bug anywhere in validation, planning or the executor itself (not in a
   * node) ends the run as 'failed' with RunError.code 'internal_error', so a server or the CLI can report it.
   */
  async run(document: unknown, options: RunOptions = {}): Promise<RunResult> {
    const runId = options.runId ?? globalThis.crypto.randomUUID();
    const started = performance.now();
    try {
      return await this.runChecked(document, { ...options, runId });
    } catch (caught) {
      // whatever escapes is a bug, even an error with a code
      const detail = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
      const error: RunError = {
        nodeId: null,
        code: INTERNAL_ERROR,
        message: `internal error (a bug, please report it): ${detail}`,
      };
      const ms = Math.round((performance.now() - started) * 1000) / 1000;
      try {
        options.onEvent?.({ runId, time: Date.now(), type: 'run:failed', ms, error });
      } catch {
        // A broken listener must not break the run.
      }
      const empty = { nodes: [], artifacts: [], outputs: {}, fingerprints: {}, warnings: [] };
      return { runId, status: 'failed', ms, ...empty, error };
    }
  }

  private async runChecked(document: unknown, options: RunOptions & { runId: string }): Promise<RunResult> {
    const runId = options.runId;
    const signal = options.signal ?? new AbortController().signal;
    const started = performance.now();
    const elapsed = (): number => Math.round((performance.now() - started) * 1000) / 1000;
    const emit = (event: RunEvent): void => {
      try {
        options.onEvent?.(event);
      } catch {
        // A broken listener must not break the run.
      }
    };
    const base = (): { runId: string; time: number } => ({ runId, time: Date.now() });

    const validation = this.memo.validate(document, options.targets, () =>
      validateWorkflow(document, this.catalog, { targets: options.targets }),
    );
    if (!validation.ok) {
      const error: RunError = {
        nodeId: null,
        code: 'invalid_workflow',
        message: `the workflow has ${validation.issues.length} problem(s)`,
      };
      emit({ ...base(), type: 'run:failed', ms: elapsed(), error, issues: validation.issues });
      return {
        runId,
        status: 'invalid',
        ms: elapsed(),
        nodes: [],
        artifacts: [],
        outputs: {},
        fingerprints: {},
        error,
        issues: validation.issues,
        warnings: [],
      };
    }
    const workflow = validation.workflow;
    const nodes = new Map(workflow.nodes.map((node) => [node.id, node]));
    const typeOf = (id: string): string => nodes.get(id)!.type;
    const edgesInto = new Map<string, WorkflowEdge[]>();
    for (const edge of workflow.edges) {
      const list = edgesInto.get(edge.to.node);
      if (list) list.push(edge);
      else edgesInto.set(edge.to.node, [edge]);
    }
    const records = new Map<string, NodeRunRecord>();
    const outputs: Record<string, Record<string, unknown>> = Object.create(null);
    const artifacts: NodeArtifact[] = [];
    const addArtifacts = (nodeId: string, files: readonly Artifact[]): void => {
      for (const file of files) {
        const artifact = { ...file, nodeId };
        artifacts.push(artifact);
        try {
          options.onArtifact?.(artifact);
        } catch {
          // Like a broken event listener, a failing artifact sink must not break the run.
        }
      }
    };
    const seeOutputs = async (node: NodeOutputs): Promise<void> => {
      try {
        await options.onNodeOutputs?.(node);
      } catch {
        // Like a broken event listener, a failing outputs hook must not break the run.
      }
    };
    const warnings: RunWarning[] = [];
    const warn = (nodeId: string, nodeType: string, warning: NodeWarningInit): void => {
      const entry: RunWarning = {
        nodeId,
        nodeType,
        code: warning.code,
        ...(warning.field !== undefined ? { field: warning.field } : {}),
        message: warning.message,
      };
      warnings.push(entry);
      emit({ ...base(), type: 'node:warning', ...entry });
    };
    let fingerprints: ParamFingerprints = {};
    const finish = (status: RunResult['status'], error?: RunError): RunResult => ({
      runId,
      status,
      ms: elapsed(),
      nodes: [...records.values()],
      artifacts,
      outputs,
      fingerprints,
      ...(error ? { error } : {}),
      warnings,
    });
    const fail = (error: RunError): RunResult => {
      emit({ ...base(), type: 'run:failed', ms: elapsed(), error });
      return finish('failed', error);
    };
    const cancel = (nodeId: string | null): RunResult => {
      if (nodeId !== null && records.has(nodeId)) records.get(nodeId)!.status = 'cancelled';
      emit({ ...base(), type: 'run:cancelled', ms: elapsed(), nodeId });
      return finish('cancelled');
    };

    // Fingerprint files/models of every node the targets depend on, then key them; the plan then stops at
    // the nodes whose key is cached.
    const dependencies = workflow.edges.map((e) => ({ from: e.from.node, to: e.to.node }));
    const needed = upstreamOf(options.targets ?? outputNodes(workflow, this.catalog), dependencies);
    try {
      fingerprints = await this.fingerprint(workflow, needed, runId, signal);
    } catch (caught) {
      if (signal.aborted) return cancel(null);
      return fail(caught instanceof FingerprintError ? caught.runError : toRunError(caught, null, undefined));
    }
    const allKeys = this.memo.keys(validation, fingerprints, () =>
      computeCacheKeys(workflow, this.catalog, fingerprints, validation.document),
    );
    const keys = new Map([...allKeys].filter(([id]) => needed.has(id)));

    const cachedResults = new Map<string, CachedNodeResult>();
    const plan = planExecution(workflow, this.catalog, {
      targets: options.targets,
      isCached: (id) => {
        const hit = this.cache.get(keys.get(id)!);
        if (hit) cachedResults.set(id, hit);
        return hit !== undefined;
      },
    });
    for (const id of plan.order) {
      const isCached = cachedResults.has(id);
      records.set(id, {
        nodeId: id,
        nodeType: typeOf(id),
        status: isCached ? 'cached' : 'pending',
        ms: 0,
        cacheKey: keys.get(id)!,
        artifacts: [],
      });
    }
    emit({
      ...base(),
      type: 'run:start',
      planned: plan.order,
      cached: plan.cached,
      targets: plan.targets,
      keys: Object.fromEntries(keys),
    });

    for (const id of plan.order) {
      const node = nodes.get(id)!;
      const record = records.get(id)!;
      const cachedResult = cachedResults.get(id);
      if (cachedResult) {
        outputs[id] = cachedResult.outputs;
        record.artifacts = cachedResult.artifacts.map(artifactInfo);
        addArtifacts(id, cachedResult.artifacts);
        await seeOutputs({ nodeId: id, nodeType: node.type, outputs: cachedResult.outputs, cached: true });
        emit({
          ...base(),
          type: 'node:cached',
          nodeId: id,
          nodeType: node.type,
          cacheKey: record.cacheKey,
          artifacts: record.artifacts,
        });
        for (const w of cachedResult.warnings ?? []) warn(id, node.type, w);
        continue;
      }
      if (signal.aborted) return cancel(id);

      const def = this.catalog.get(node.type)!;
      const inputs = this.gatherInputs(edgesInto.get(id) ?? [], typeOf, def, outputs);
      const emitted: Artifact[] = [];
      const raised: NodeWarningInit[] = [];
      const onWarning = (w: NodeWarningInit): void => {
        raised.push(w);
        warn(id, node.type, w);
      };
      const progress = this.progressThrottle(emit);
      const ctx = this.createContext(
        def,
        id,
        runId,
        signal,
        emitted,
        progress.emit,
        onWarning,
        validation.document,
      );
      emit({ ...base(), type: 'node:start', nodeId: id, nodeType: node.type });
      const nodeStarted = performance.now();
      let result: Record<string, unknown>;
      try {
        signal.throwIfAborted();
        result = await untilAborted(def.run(ctx, inputs, node.params), signal);
        checkOutputs(def, result);
      } catch (caught) {
        record.ms = performance.now() - nodeStarted;
        if (signal.aborted) return cancel(id);
        progress.flush();
        record.status = 'failed';
        const error = toRunError(caught, id, node.type);
        emit({ ...base(), type: 'node:error', nodeId: id, nodeType: node.type, ms: record.ms, error });
        return fail(error);
      }
      record.ms = performance.now() - nodeStarted;
      progress.flush();
      record.status = 'ran';
      record.artifacts = emitted.map(artifactInfo);
      outputs[id] = result;
      addArtifacts(id, emitted);
      this.cache.set(
        record.cacheKey,
        { outputs: result, artifacts: emitted, ...(raised.length > 0 ? { warnings: raised } : {}) },
        `${node.type}:${id}`,
      );
      await seeOutputs({ nodeId: id, nodeType: node.type, outputs: result, cached: false });
      emit({
        ...base(),
        type: 'node:done',
        nodeId: id,
        nodeType: node.type,
        cacheKey: record.cacheKey,
        ms: record.ms,
        outputs: describeOutputs(result),
        artifacts: record.artifacts,
      });
    }
    emit({ ...base(), type: 'run:done', ms: elapsed() });
    return finish('done');
  }

  /** Validates a document against this executor's catalog (no side effects). */
  validate(document: unknown, targets?: readonly string[]): ReturnType<typeof validateWorkflow> {
    return validateWorkflow(document, this.catalog, { targets });
  }

  /**
   * The one place progress is throttled: wraps a node's event sink so that `node:progress` events are at
   * least progressIntervalMs apart; the last dropped one is sent by flush() when the node ends. A preview of
   * a dropped event rides on the next one sent that has none, so the newest preview is never lost.
   */
  private progressThrottle(emit: (event: RunEvent) => void): {
    emit: (event: RunEvent) => void;
    flush: () => void;
  } {
    let lastSent = Number.NEGATIVE_INFINITY;
    let pending: Extract<RunEvent, { type: 'node:progress' }> | undefined;
    return {
      emit: (event) => {
        if (event.type !== 'node:progress') return emit(event);
        const withPreview =
          event.preview || !pending?.preview ? event : { ...event, preview: pending.preview };
        const now = this.now();
        if (now - lastSent >= this.progressIntervalMs) {
          lastSent = now;
          pending = undefined;
          emit(withPreview);
        } else {
          pending = withPreview;
        }
      },
      flush: () => {
        if (pending) emit(pending);
        pending = undefined;
      },
    };
  }

  private async fingerprint(
    workflow: ValidWorkflow,
    wanted: ReadonlySet<string>,
    runId: string,
    signal: AbortSignal,
  ): Promise<ParamFingerprints> {
    const result: Record<string, Record<string, string>> = Object.create(null);
    for (const node of workflow.nodes) {
      if (!wanted.has(node.id)) continue;
      const def = this.catalog.get(node.type)!;
      for (const [param, spec] of Object.entries(def.params)) {
        if (!isFingerprintedKind(spec.kind)) continue;
        const value = String(node.params[param]);
        let fingerprint: string;
        if (spec.kind === 'file' && value.trim() === '') {
          // nothing to read: the node itself says "no image chosen", naming its param
          fingerprint = 'no-file';
        } else if (!this.fingerprintParam) {
          // Unknown content: make the key unique to this run so the result is never reused.
          fingerprint = `unfingerprinted:${runId}`;
        } else {
          try {
            fingerprint = await this.fingerprintParam(spec.kind, value, { nodeId: node.id, param, signal });
          } catch (caught) {
            throw new FingerprintError({
              nodeId: node.id,
              nodeType: node.type,
              field: param,
              code: 'fingerprint_failed',
              message: `cannot read ${spec.kind} '${value}': ${caught instanceof Error ? caught.message : String(caught)}`,
            });
          }
        }
        (result[node.id] ??= {})[param] = fingerprint;
      }
    }
    return result;
  }

  private gatherInputs(
    edgesInto: readonly WorkflowEdge[],
    typeOf: (nodeId: string) => string,
    def: NodeDefinition,
    outputs: Record<string, Record<string, unknown>>,
  ): Record<string, unknown> {
    const inputs: Record<string, unknown> = {};
    for (const edge of edgesInto) {
      const outputType = ownValue(this.catalog.get(typeOf(edge.from.node))!.outputs, edge.from.output)!.type;
      const inputSpec = ownValue(def.inputs, edge.to.input)!;
      const as = resolveSocketConnection(outputType, inputSpec.type) ?? acceptedTypes(inputSpec)[0];
      inputs[edge.to.input] = convertSocketValue(outputType, as, outputs[edge.from.node][edge.from.output]);
    }
    return inputs;
  }

  private createContext(
    def: NodeDefinition,
    nodeId: string,
    runId: string,
    signal: AbortSignal,
    emitted: Artifact[],
    emit: (event: RunEvent) => void,
    onWarning: (warning: NodeWarningInit) => void,
    workflow?: Workflow,
  ): NodeContext {
    const base = { runId, nodeId, nodeType: def.type };
    const log =
      (level: LogLevel) =>
      (message: string): void =>
        emit({ ...base, time: Date.now(), type: 'node:log', level, message });
    const throwIfAborted = (): void => {
      if (signal.aborted) throw new RunCancelledError();
    };
    return {
      nodeId,
      nodeType: def.type,
      runId,
      signal,
      services: this.services,
      ...(def.readsWorkflow ? { workflow } : {}),
      log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
      throwIfAborted,
      warn: (warning) => {
        if (typeof warning?.code !== 'string' || typeof warning.message !== 'string') {
          throw new TypeError(`${def.type}: ctx.warn needs { code, message }`);
        }
        onWarning({
          code: warning.code,
          message: warning.message,
          ...(typeof warning.field === 'string' ? { field: warning.field } : {}),
        });
      },
      progress: (step, total, preview) => {
        throwIfAborted();
        emit({
          ...base,
          time: Date.now(),
          type: 'node:progress',
          step,
          total,
          ...(preview ? { preview } : {}),
        });
      },
      emitFile: (artifact) => {
        if (!isPlainFileName(artifact.name)) {
          throw new NodeError(
            `invalid artifact file name '${artifact.name}' (plain file names only)`,
            'invalid_artifact',
          );
        }
        if (emitted.some((a) => a.name === artifact.name)) {
          throw new NodeError(`artifact '${artifact.name}' was emitted twice`, 'invalid_artifact');
        }
        if (!def.output) {
          log('warn')(
            `${def.type} is not an output node; files it emits are only kept with its cached result`,
          );
        }
        emitted.push({ name: artifact.name, mime: artifact.mime, bytes: artifact.bytes });
      },
    };
  }
}

export function createExecutor(options: ExecutorOptions): Executor {
  return new Executor(options);
}

class FingerprintError extends Error {
  constructor(readonly runError: RunError) {
    super(runError.message);
  }
}

function artifactInfo(artifact: Artifact): ArtifactInfo {
  return { name: artifact.name, mime: artifact.mime, size: artifact.bytes.byteLength };
}

function checkOutputs(def: NodeDefinition, result: unknown): asserts result is Record<string, unknown> {
  if (typeof result !== 'object' || result === null) {
    throw new NodeError(
      `${def.type}.run returned ${describeValue(result)}, not an object of outputs`,
      'missing_output',
    );
  }
  for (const name of Object.keys(def.outputs)) {
    if ((result as Record<string, unknown>)[name] === undefined) {
      throw new NodeError(`${def.type}.run did not return output '${name}'`, 'missing_output', name);
    }
  }
}

/**
 * A NodeError (or another error carrying a stable string `code`, as model and file-system errors do) is a node
 * that failed on its input: the user can fix it. Anything else (a TypeError, a plain Error, a thrown string) is
 * a bug in the node or the runtime: 'internal_error', so that scripts and the editor can tell the two apart.
 */
export function toRunError(caught: unknown, nodeId: string | null, nodeType: string | undefined): RunError {
  const base = { nodeId, ...(nodeType !== undefined ? { nodeType } : {}) };
  if (caught instanceof NodeError) {
    return {
      ...base,
      code: caught.code,
      message: caught.message,
      ...(caught.field !== undefined ? { field: caught.field } : {}),
    };
  }
  const code = caught instanceof Error ? (caught as { code?: unknown }).code : undefined;
  if (caught instanceof Error && typeof code === 'string' && code !== '') {
    // model errors have snake_case codes; system errors ('ENOENT'…) say what failed in their message
    return { ...base, code: /^[a-z][a-z0-9_]*$/.test(code) ? code : 'node_failed', message: caught.message };
  }
  const detail = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
  return {
    ...base,
    code: INTERNAL_ERROR,
    message: `internal error${nodeType !== undefined ? ` in ${nodeType}` : ''} (a bug, please report it): ${detail}`,
  };
}

/** RunError.code of an unexpected exception: a bug, not a node that failed on its input. */
export const INTERNAL_ERROR = 'internal_error';

/** Settles with the node's promise, or rejects as soon as the run is cancelled (even if the node ignores it). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new RunCancelledError());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
