import { DEFAULT_PROVIDERS, ModelManager } from '@diffedit/nodes';
import type { InferenceMode, ModelManagerOptions } from '@diffedit/nodes';

import type { ProviderSummary } from './bench-report.js';
import { onnxruntimeVersion } from './bench-report.js';

/** What every benchmark gets: the run size, where the toy pack and the workflow are, and a progress log. */
export interface BenchContext {
  quick: boolean;
  modelsDir: string;
  workflowPath: string;
  log: (line: string) => void;
  resources: BenchResources;
  /** Execution providers to try (undefined: the model manager's default). */
  providers?: readonly string[];
  /** onnxruntime session options for the workflow benchmarks (undefined: the runtime's defaults). */
  threads?: number;
  spin?: boolean;
}

/**
 * Model managers shared by the model-level benchmarks (one per inference mode, created on first use) and a
 * record of the providers every manager's sessions ended on, for the machine section of the report.
 */
export class BenchResources {
  private readonly managers = new Map<InferenceMode, ModelManager>();
  private readonly sessions = new Map<string, { provider: string; failures: string[] }>();
  private configured: readonly string[];

  constructor(
    private readonly modelsDir: string,
    private readonly log: (line: string) => void,
    /** The largest UNet batch per session call (GenerateMask's max_batch default). */
    private readonly maxBatch: number,
    private readonly providers?: readonly string[],
  ) {
    this.configured = providers ?? DEFAULT_PROVIDERS;
  }

  /** A model manager in this mode, made as the runtime makes it (with the chosen providers, if any). */
  manager(mode: InferenceMode): ModelManager {
    let manager = this.managers.get(mode);
    if (manager === undefined) {
      const options: ModelManagerOptions = {
        modelsDir: this.modelsDir,
        mode,
        maxBatch: this.maxBatch,
        logger: this.log,
        ...(this.providers === undefined ? {} : { providers: this.providers }),
      };
      manager = new ModelManager(options);
      this.managers.set(mode, manager);
    }
    return manager;
  }

  /** Remembers the providers of a manager's open sessions (call before closing it). */
  async noteProviders(manager: ModelManager): Promise<void> {
    const info = await manager.providerInfo();
    this.configured = info.configured;
    for (const s of info.sessions) {
      this.sessions.set(`${s.mode}:${s.path}`, {
        provider: s.provider,
        failures: s.attempts.filter((a) => !a.ok).map((a) => `${a.provider}: ${a.error ?? 'failed'}`),
      });
    }
  }

  providerSummary(): ProviderSummary {
    const all = [...this.sessions.values()];
    return {
      onnxruntimeNode: onnxruntimeVersion(),
      configured: this.configured,
      inUse: [...new Set(all.map((s) => s.provider))],
      sessions: all.length,
      fallbacks: [...new Set(all.flatMap((s) => s.failures))],
    };
  }

  async close(): Promise<void> {
    for (const manager of this.managers.values()) {
      await this.noteProviders(manager);
      await manager.close();
    }
    this.managers.clear();
  }
}
