import { resolve } from 'node:path';

import { createExecutor, InputsFolderKey } from '@diffedit/core';
import { ModelManagerKey } from '@diffedit/nodes';
import type { SessionRunObserver } from '@diffedit/nodes';
import type {
  Executor,
  NodeCatalog,
  OutputCache,
  ParamFingerprinter,
  RunEventListener,
  RunOptions,
  RunResult,
  SerializedNodeDefinition,
  ServiceRegistry,
  ValidationResult,
} from '@diffedit/core';

import { createFsFingerprinter } from './fingerprints.js';
import { closeServices, defaultCatalog, defaultServices } from './wiring.js';

export interface RuntimeOptions {
  catalog?: NodeCatalog;
  services?: ServiceRegistry;
  /** Byte budget of the output cache (default 1 GiB). */
  cacheBytes?: number;
  /** Results the output cache keeps per node (default 4; 0: no limit; the CLI's --cache-variants). */
  cacheVariants?: number;
  /** Folder relative file params are read from (default: the current directory). */
  inputsDir?: string;
  /** Folder relative model params are found in (default: ./models). */
  modelsDir?: string;
  /** Replaces the file-system fingerprinter (tests, remote storage). */
  fingerprintParam?: ParamFingerprinter;
  /** Where the default services report (default: console). */
  log?: (line: string) => void;
  /** onnxruntime execution providers to try in order (default: cuda, then cpu). */
  providers?: readonly string[];
  /** onnxruntime intra-op threads per session (default: one per core; the CLI's --threads). */
  threads?: number;
  /** Whether idle onnxruntime threads spin (default false). */
  allowSpinning?: boolean;
  /** Watches every model session.run (the bench records calls and onnxruntime's time with it). */
  modelObserver?: SessionRunObserver;
  /** Least time between two progress events of a node (the executor's default when omitted; tests use 0). */
  progressIntervalMs?: number;
  /** Confines file params (the server): absolute path of a value, or throws for one that may not be read. */
  resolveInput?: (value: string) => string;
  /** Most pixels an image file may have; bigger ones are refused before decoding (default 16 MP, 4096²). */
  maxPixels?: number;
}

/** A long-lived runtime: one catalog, one set of services, one cache shared by every run. */
export interface Runtime {
  readonly catalog: NodeCatalog;
  readonly services: ServiceRegistry;
  readonly cache: OutputCache;
  readonly executor: Executor;
  run(workflow: unknown, options?: RunOptions): Promise<RunResult>;
  validate(workflow: unknown, targets?: readonly string[]): ValidationResult;
  listNodes(): SerializedNodeDefinition[];
  /** Listens to the events of every run (e.g. a server broadcasting them); returns an unsubscribe function. */
  onEvent(listener: RunEventListener): () => void;
  /** Releases the services' resources (model sessions, workers); call it before the process ends. */
  close(): Promise<void>;
}

export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const inputsDir = resolve(options.inputsDir ?? '.');
  const modelsDir = resolve(options.modelsDir ?? 'models');
  const catalog = options.catalog ?? defaultCatalog();
  const services =
    options.services ??
    defaultServices({
      inputsDir,
      modelsDir,
      log: options.log,
      providers: options.providers,
      threads: options.threads,
      allowSpinning: options.allowSpinning,
      modelObserver: options.modelObserver,
      resolveInput: options.resolveInput,
      maxPixels: options.maxPixels,
    });
  const inputs = services.tryGet(InputsFolderKey);
  const fingerprintParam =
    options.fingerprintParam ??
    createFsFingerprinter({
      resolveFile: (value) => (inputs ? inputs.resolve(value) : resolve(inputsDir, value)),
      resolveModel: (value) => resolve(modelsDir, value),
      prepareModel: async (value) => services.tryGet(ModelManagerKey)?.prepare(value),
    });
  const executor = createExecutor({
    catalog,
    services,
    cacheBytes: options.cacheBytes,
    ...(options.cacheVariants === undefined ? {} : { variantsPerNode: options.cacheVariants }),
    fingerprintParam,
    ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
  });
  const listeners = new Set<RunEventListener>();

  return {
    catalog,
    services,
    cache: executor.cache,
    executor,
    run: (workflow, runOptions = {}) =>
      executor.run(workflow, {
        ...runOptions,
        onEvent: (event) => {
          runOptions.onEvent?.(event);
          for (const listener of listeners) listener(event);
        },
      }),
    validate: (workflow, targets) => executor.validate(workflow, targets),
    listNodes: () => catalog.toJSON(),
    onEvent: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close: () => closeServices(services),
  };
}
