import { resolve } from 'node:path';

import { InputsFolderKey, ServiceRegistry } from '@diffedit/core';
import type { NodeCatalog } from '@diffedit/core';
import type { SessionRunObserver } from '@diffedit/nodes';
import {
  createNodeCatalog,
  DEFAULT_MAX_PIXELS,
  ImageLimitsKey,
  ModelManager,
  ModelManagerKey,
} from '@diffedit/nodes';
import { ensureToyPack, TOY_PACK_FOLDERS } from '@diffedit/toy-models';

/**
 * The one place where the runtime's nodes and services are assembled. Node packs register their definitions
 * through @diffedit/nodes' builtinNodeDefinitions(); services nodes need are created below.
 */
export interface WiringOptions {
  inputsDir: string;
  modelsDir: string;
  /** Where services report (model provider choices…); the CLI passes stderr so stdout stays clean JSON. */
  log?: (line: string) => void;
  /** onnxruntime execution providers to try in order (default: the model manager's cuda, then cpu). */
  providers?: readonly string[];
  /** onnxruntime intra-op threads per session (default: one per core, see defaultIntraOpThreads). */
  threads?: number;
  /** Whether idle onnxruntime threads spin (default false). */
  allowSpinning?: boolean;
  /** Watches every model session.run (the bench). */
  modelObserver?: SessionRunObserver;
  /**
   * Resolves a file param (LoadImage's image, LoadMask's mask) to an absolute path, throwing for values that
   * may not be read. Default: any path, relative to inputsDir (the CLI); the server confines it.
   */
  resolveInput?: (value: string) => string;
  /** Most pixels an image file may have (LoadImage/LoadMask refuse bigger ones from the header); default 16 MP. */
  maxPixels?: number;
}

export function defaultCatalog(): NodeCatalog {
  return createNodeCatalog();
}

/** The runtime's own models folder (`models/` under the working directory), the only one it writes into. */
export function defaultModelsDir(): string {
  return resolve('models');
}

export function defaultServices(options: WiringOptions): ServiceRegistry {
  const inputsRoot = resolve(options.inputsDir);
  const modelsDir = resolve(options.modelsDir);
  return new ServiceRegistry()
    .set(InputsFolderKey, {
      root: inputsRoot,
      resolve: options.resolveInput ?? ((path) => resolve(inputsRoot, path)),
    })
    .set(ImageLimitsKey, { maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS })
    .set(
      ModelManagerKey,
      new ModelManager({
        modelsDir,
        // The toy-world pack (@diffedit/toy-models) is generated on first use, so a fresh checkout runs without a
        // set-up step; the product nodes know nothing of it. Only in the runtime's own folder: a user's --models
        // folder is never written (`toy-pack` does that on request).
        ...(modelsDir === defaultModelsDir()
          ? { builtins: { names: Object.values(TOY_PACK_FOLDERS), ensure: ensureToyPack } }
          : {}),
        ...(options.log ? { logger: options.log } : {}),
        ...(options.providers ? { providers: [...options.providers] } : {}),
        ...(options.threads === undefined ? {} : { intraOpNumThreads: options.threads }),
        ...(options.allowSpinning === undefined ? {} : { allowSpinning: options.allowSpinning }),
        ...(options.modelObserver === undefined ? {} : { observer: options.modelObserver }),
      }),
    );
}

/** Releases services that hold resources (model sessions, worker threads). */
export async function closeServices(services: ServiceRegistry): Promise<void> {
  await services.tryGet(ModelManagerKey)?.close();
}
