import { parentPort, workerData } from 'node:worker_threads';

import type { NodeDefinition } from '@diffedit/core';
import { createNodeCatalog, ModelManagerKey } from '@diffedit/nodes';

import { createRuntime } from '../runtime.js';
import { createInputResolver } from './data-folder.js';
import { executeRun } from './run-execution.js';
import type { FromWorker, RunWorkerData, ToWorker, WorkerCall } from './run-worker-protocol.js';

/**
 * The server's executor thread: the runtime (catalog, services, output cache) lives here, so the nodes'
 * TypeScript work (tensor maths, PNG encoding) never holds up the HTTP and socket.io thread. The main thread
 * keeps only validation (the same createRuntime catalog) and the queue.
 */
const port = parentPort!;
const data = workerData as RunWorkerData;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

const extra: NodeDefinition[] = [];
for (const url of data.nodeModules) {
  const module = (await import(url)) as { nodes?: NodeDefinition[] };
  extra.push(...(module.nodes ?? []));
}
const runtime = createRuntime({
  catalog: createNodeCatalog(extra),
  ...(data.modelsDir !== undefined ? { modelsDir: data.modelsDir } : {}),
  ...(data.providers !== undefined ? { providers: data.providers } : {}),
  ...(data.cacheBytes !== undefined ? { cacheBytes: data.cacheBytes } : {}),
  ...(data.cacheVariants !== undefined ? { cacheVariants: data.cacheVariants } : {}),
  ...(data.threads !== undefined ? { threads: data.threads } : {}),
  inputsDir: data.filesDir,
  resolveInput: createInputResolver(data.filesDir, data.assetsDir),
  log: (line) => post({ type: 'log', line }),
});
const running = new Map<string, AbortController>();

const calls: Record<WorkerCall, () => unknown> = {
  cacheStats: () => runtime.cache.stats(),
  clearCache: () => {
    runtime.cache.clear();
    return runtime.cache.stats();
  },
  providerInfo: () => runtime.services.get(ModelManagerKey).providerInfo(),
  listModels: () => runtime.services.get(ModelManagerKey).listModels({ probe: false }),
  close: async () => {
    for (const controller of running.values()) controller.abort();
    await runtime.close();
  },
};

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'run':
      void execute(message.runId, message.workflow, message.targets);
      return;
    case 'cancel':
      running.get(message.runId)?.abort();
      return;
    case 'call':
      Promise.resolve()
        .then(() => calls[message.method]())
        .then(
          (value) => post({ type: 'reply', id: message.id, ok: true, value }),
          (error: unknown) =>
            post({
              type: 'reply',
              id: message.id,
              ok: false,
              message: (error as Error)?.message ?? String(error),
            }),
        );
  }
});

async function execute(runId: string, workflow: unknown, targets: string[] | undefined): Promise<void> {
  const controller = new AbortController();
  running.set(runId, controller);
  try {
    await executeRun(runtime, {
      runId,
      workflow,
      ...(targets ? { targets } : {}),
      signal: controller.signal,
      post: (message) => post(message),
    });
  } finally {
    running.delete(runId);
  }
}
