import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { BlipModel } from './blip-model.js';
import { DiffusionModel } from './diffusion-model.js';
import { errorMessage, ModelError } from './model-errors.js';
import type { ModelListing, ModelRole } from './model-registry.js';
import { checkModelFiles, detectRole, scanModelsFolder } from './model-registry.js';
import type { InferenceMode } from './model-session.js';
import type { ProviderAttempt, SessionCreateOptions } from './ort-session.js';
import { createSessionBackend } from './session-backends.js';
import type { ModelLogger, SessionRunObserver } from './session-pool.js';
import { SessionPool } from './session-pool.js';
import { T5Model } from './t5-model.js';
import type { T5ModelOptions } from './t5-model.js';

export const DEFAULT_PROVIDERS: readonly string[] = ['cuda', 'cpu'];

export interface ModelManagerOptions {
  /** The models folder; default `models/` under the working directory. */
  readonly modelsDir?: string;
  /** Execution providers in order of preference (default cuda, then cpu). */
  readonly providers?: readonly string[];
  /** 'worker' (default) keeps session.run off the event loop; 'in-process' runs on the calling thread. */
  readonly mode?: InferenceMode;
  /** The compiled worker entry; default the package's dist/models/inference-worker.js. */
  readonly workerPath?: string;
  /** Largest batch per UNet / VAE / text-encoder call. */
  readonly maxBatch?: number;
  /** onnxruntime intra-op threads per session (default: see defaultIntraOpThreads). */
  readonly intraOpNumThreads?: number;
  /** Whether idle onnxruntime threads spin (default false: on few cores they compete with the main thread). */
  readonly allowSpinning?: boolean;
  /** Where provider choices and fallbacks are reported (default console.info). */
  readonly logger?: ModelLogger;
  /** Watches every session.run (the bench's call recording and onnxruntime time). */
  readonly observer?: SessionRunObserver;
  /** T5 decoder choice (merged vs plain). */
  readonly t5?: T5ModelOptions;
  /**
   * Models the application generates itself (the embedded toy pack): `ensure(modelsDir)` writes them when
   * missing or out of date, once per manager, before one of `names` is loaded or the folder is listed.
   */
  readonly builtins?: { readonly names: readonly string[]; ensure(modelsDir: string): Promise<unknown> };
}

export interface SessionInfo {
  readonly path: string;
  readonly provider: string;
  readonly mode: InferenceMode;
  readonly attempts: readonly ProviderAttempt[];
}

export interface ProviderInfo {
  readonly configured: readonly string[];
  readonly mode: InferenceMode;
  readonly sessions: readonly SessionInfo[];
}

type AnyModel = DiffusionModel | T5Model | BlipModel;

/**
 * onnxruntime's intra-op threads when not configured: one per core, with spinning off (allowSpinning). Chosen
 * by measurement on a loaded 2-core machine (docs/performance.md): 2 threads without spinning 1.9 s a run, 1
 * thread 2.6 s, 2 spinning threads 8.0 s — spinning threads fight the main thread and each other.
 */
export function defaultIntraOpThreads(cores = availableParallelism()): number {
  return Math.max(1, cores);
}

/**
 * The model service nodes get through `ctx.services`: finds models by folder name, loads each once (sessions are
 * shared through one SessionPool), lists them for the API, and releases them on demand.
 */
export class ModelManager {
  readonly modelsDir: string;
  readonly providers: readonly string[];
  readonly mode: InferenceMode;
  /** The options every session of this manager is opened with (the bench's replay opens its own with them). */
  readonly sessionOptions: SessionCreateOptions;
  private readonly pool: SessionPool;
  private readonly loaded = new Map<string, { role: ModelRole; model: Promise<AnyModel> }>();
  private readonly options: ModelManagerOptions;
  private builtinsReady: Promise<unknown> | undefined;

  constructor(options: ModelManagerOptions = {}) {
    this.options = options;
    this.modelsDir = resolve(options.modelsDir ?? 'models');
    this.providers = [...(options.providers ?? DEFAULT_PROVIDERS)];
    this.mode = options.mode ?? 'worker';
    const log = options.logger ?? ((line: string) => console.info(line));
    this.sessionOptions = {
      providers: this.providers,
      intraOpNumThreads: options.intraOpNumThreads ?? defaultIntraOpThreads(),
      allowSpinning: options.allowSpinning ?? false,
    };
    this.pool = new SessionPool(
      createSessionBackend(this.mode, options.workerPath),
      this.sessionOptions,
      log,
      options.observer,
    );
  }

  /** The folder of a model name: a direct subfolder of the models folder. */
  folderOf(name: string): string {
    if (name === '' || name === '.' || name === '..' || /[\\/]/.test(name)) {
      throw new ModelError(
        'model_not_found',
        this.modelsDir,
        undefined,
        `invalid model name '${name}' (use a folder name)`,
      );
    }
    const folder = resolve(this.modelsDir, name);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw new ModelError(
        'model_not_found',
        folder,
        undefined,
        `no model folder '${name}' in ${this.modelsDir}`,
      );
    }
    return folder;
  }

  /** Writes the built-in models (once) when this manager has any. */
  private ensureBuiltins(): Promise<unknown> {
    const builtins = this.options.builtins;
    if (builtins === undefined) return Promise.resolve();
    this.builtinsReady ??= builtins.ensure(this.modelsDir).catch((error: unknown) => {
      this.builtinsReady = undefined; // let a later call retry (e.g. after the disk was freed)
      throw new ModelError(
        'model_session_failed',
        this.modelsDir,
        undefined,
        `cannot write the built-in models: ${errorMessage(error)}`,
      );
    });
    return this.builtinsReady;
  }

  /** Makes sure a model's folder exists when it is a built-in one (generated on first use); else a no-op. */
  async prepare(name: string): Promise<void> {
    if (this.options.builtins?.names.includes(name)) await this.ensureBuiltins();
  }

  /** Every model folder with its role, size, whether it loads, and (when loaded) its providers. */
  async listModels(options: { probe?: boolean } = {}): Promise<ModelListing[]> {
    await this.ensureBuiltins();
    const scanned = await scanModelsFolder(this.modelsDir);
    const out: ModelListing[] = [];
    for (const m of scanned) {
      let problem = m.problem;
      let providers: Record<string, string> | undefined;
      const entry = this.loaded.get(m.name);
      if (problem === undefined && m.role !== undefined && (options.probe || entry !== undefined)) {
        try {
          providers = (await this.load(m.name, m.role)).providers;
        } catch (error) {
          problem =
            error instanceof ModelError
              ? error
              : new ModelError('model_session_failed', m.folder, undefined, errorMessage(error));
        }
      }
      out.push({
        name: m.name,
        folder: m.folder,
        role: m.role,
        sizeBytes: m.sizeBytes,
        loads: problem === undefined,
        loaded: providers !== undefined,
        ...(providers === undefined ? {} : { providers }),
        ...(problem === undefined
          ? {}
          : {
              error: {
                code: problem.code,
                message: problem.message,
                ...(problem.file === undefined ? {} : { file: problem.file }),
              },
            }),
      });
    }
    return out;
  }

  loadDiffusion(name: string): Promise<DiffusionModel> {
    return this.load(name, 'diffusion') as Promise<DiffusionModel>;
  }

  loadT5(name: string): Promise<T5Model> {
    return this.load(name, 't5') as Promise<T5Model>;
  }

  loadBlip(name: string): Promise<BlipModel> {
    return this.load(name, 'blip') as Promise<BlipModel>;
  }

  private load(name: string, role: ModelRole): Promise<AnyModel> {
    const existing = this.loaded.get(name);
    if (existing !== undefined) {
      if (existing.role !== role) {
        return Promise.reject(
          new ModelError(
            'model_role_mismatch',
            this.folderOf(name),
            undefined,
            `is a ${existing.role} model, not ${role}`,
          ),
        );
      }
      return existing.model;
    }
    const model = (async (): Promise<AnyModel> => {
      await this.prepare(name);
      const folder = this.folderOf(name);
      const detected = detectRole(folder);
      if (detected !== role) {
        throw new ModelError(
          detected === undefined ? 'model_role_unknown' : 'model_role_mismatch',
          folder,
          undefined,
          detected === undefined ? `not a ${role} model layout` : `is a ${detected} model, not ${role}`,
        );
      }
      await checkModelFiles(folder, role);
      if (role === 'diffusion') {
        return DiffusionModel.load(
          folder,
          this.pool,
          this.options.maxBatch === undefined ? {} : { maxBatch: this.options.maxBatch },
        );
      }
      if (role === 't5') return T5Model.load(folder, this.pool, this.options.t5 ?? {});
      return BlipModel.load(folder, this.pool);
    })();
    this.loaded.set(name, { role, model });
    model.catch(() => {
      if (this.loaded.get(name)?.model === model) this.loaded.delete(name);
    });
    return model;
  }

  /** Releases one model's sessions (or all); the next load opens them again. */
  async release(name?: string): Promise<void> {
    if (name === undefined) {
      this.loaded.clear();
      await this.pool.release();
      return;
    }
    this.loaded.delete(name);
    await this.pool.release(resolve(this.modelsDir, name));
  }

  /** The configured providers and, for each open session, the provider it ended on and why others failed. */
  async providerInfo(): Promise<ProviderInfo> {
    const sessions = (await this.pool.openSessions()).map((s) => ({
      path: s.path,
      provider: s.provider,
      mode: s.mode,
      attempts: s.attempts,
    }));
    return { configured: this.providers, mode: this.mode, sessions };
  }

  /** Releases everything and stops the worker thread. */
  async close(): Promise<void> {
    this.loaded.clear();
    await this.pool.close();
  }
}
