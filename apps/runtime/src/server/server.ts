import { createServer as createHttpServer } from 'node:http';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import type { NodeDefinition } from '@diffedit/core';
import { createNodeCatalog } from '@diffedit/nodes';

import { createRuntime } from '../runtime.js';
import type { Runtime } from '../runtime.js';
import { isLoopbackHost } from './auth.js';
import { createInputResolver, openDataFolder } from './data-folder.js';
import { FileStore } from './files.js';
import { createHttpApp } from './http-app.js';
import type { HttpLimits } from './http-app.js';
import { RunQueue } from './run-queue.js';
import { QueueExecutor } from '../scale-out/queue-executor.js';
import type { RunExecutor } from './run-executor.js';
import { RunWorkerClient } from './run-worker-client.js';
import type { QueueLimits } from './run-queue.js';
import { createSocketServer } from './sockets.js';
import { ServerStore } from './store.js';
import { WorkflowLibrary } from './workflow-library.js';

export interface ServerLimits extends HttpLimits, QueueLimits {
  /** Pixels of an uploaded image. */
  uploadPixels: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  jsonBytes: 2 * 1024 * 1024,
  uploadBytes: 32 * 1024 * 1024,
  uploadPixels: 16 * 1024 * 1024,
  maxNodes: 500,
  maxQueuedPerClient: 20,
};

export interface ServerOptions {
  /** Default 127.0.0.1; any other address needs a token. */
  host?: string;
  /** Default 5151; 0 picks a free port. */
  port?: number;
  /** Uploads, outputs, saved workflows and the database (default ./data). */
  dataDir?: string;
  modelsDir?: string;
  token?: string;
  /** Origins (`http://host:port`) whose pages may call the API and connect sockets; CORS is off without. */
  corsOrigins?: readonly string[];
  providers?: readonly string[];
  cacheBytes?: number;
  /** Results the output cache keeps per node (default 4; 0: no limit). */
  cacheVariants?: number;
  /** onnxruntime intra-op threads per model session (default: one per core). */
  threads?: number;
  /**
   * redis://HOST:PORT: runs go into a BullMQ queue and `diffedit worker` processes execute them
   * (docs/scale-out.md). Without it runs execute in this process's run worker thread.
   */
  queue?: string;
  /** Queue mode: times a run is started before it fails when its workers keep dying (default 3). */
  maxAttempts?: number;
  limits?: Partial<ServerLimits>;
  /** URLs of ES modules whose `nodes` export joins the catalog (tests, plug-ins); loaded in both threads. */
  nodeModules?: string[];
  /** Default: the repository's apps/editor/dist, workflows/ and workflows/assets. */
  editorDir?: string;
  templatesDir?: string;
  assetsDir?: string;
  log?: (line: string) => void;
}

export interface DiffEditServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The main thread's runtime (catalog, validation); runs execute in the run worker. */
  readonly runtime: Runtime;
  /** Stops taking runs, cancels the running one, closes sockets, the HTTP server, the runtime and the database. */
  close(): Promise<void>;
}

/** Refused configuration (e.g. a public address without a token). */
export class ServerConfigError extends Error {}

const repoPath = (relative: string): string =>
  fileURLToPath(new URL(`../../../../${relative}`, import.meta.url));

/** Starts the runtime server; resolves once it listens. */
export async function startServer(options: ServerOptions = {}): Promise<DiffEditServer> {
  const host = options.host ?? '127.0.0.1';
  const loopbackOnly = isLoopbackHost(host);
  const token = options.token === '' ? undefined : options.token;
  if (!loopbackOnly && token === undefined)
    throw new ServerConfigError(`listening on ${host} needs a token (--token or $DIFFEDIT_TOKEN)`);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const data = openDataFolder(options.dataDir ?? 'data');
  const assetsDir = options.assetsDir ?? repoPath('workflows/assets');
  const resolveInput = createInputResolver(data.files, assetsDir);
  const nodeModules = options.nodeModules ?? [];
  const extra: NodeDefinition[] = [];
  for (const url of nodeModules)
    extra.push(...(((await import(url)) as { nodes?: NodeDefinition[] }).nodes ?? []));
  const store = new ServerStore(data.database);
  // The same createRuntime on both threads: here it validates and lists nodes, in the worker it runs.
  const runtime = createRuntime({
    catalog: createNodeCatalog(extra),
    ...(options.modelsDir !== undefined ? { modelsDir: options.modelsDir } : {}),
    ...(options.log ? { log: options.log } : {}),
    inputsDir: data.files,
    resolveInput,
  });
  const log = options.log ?? ((line: string) => console.error(line));
  let executor: RunExecutor;
  if (options.queue !== undefined) {
    const queueExecutor = new QueueExecutor({
      url: options.queue,
      runtime,
      filesDir: data.files,
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
      log,
    });
    try {
      await queueExecutor.start();
    } catch (error) {
      await queueExecutor.close();
      await runtime.close();
      store.close();
      throw error;
    }
    executor = queueExecutor;
  } else {
    executor = new RunWorkerClient(
      {
        ...(options.modelsDir !== undefined ? { modelsDir: options.modelsDir } : {}),
        ...(options.providers !== undefined ? { providers: [...options.providers] } : {}),
        ...(options.cacheBytes !== undefined ? { cacheBytes: options.cacheBytes } : {}),
        ...(options.cacheVariants !== undefined ? { cacheVariants: options.cacheVariants } : {}),
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        filesDir: data.files,
        assetsDir,
        nodeModules,
      },
      log,
    );
  }
  const files = new FileStore(data, store, { uploadPixels: limits.uploadPixels });
  const library = new WorkflowLibrary(data.workflows, options.templatesDir ?? repoPath('workflows'));

  // The app exists only once the queue does, but it must be the server's request listener before socket.io
  // attaches: socket.io then keeps /socket.io/ requests (long-polling) to itself instead of letting Express answer
  // them a second time ("headers already sent").
  const listener: { app?: RequestListener } = {};
  const httpServer = createHttpServer((req, res) => listener.app?.(req, res));
  const corsOrigins = options.corsOrigins ?? [];
  const sockets = createSocketServer(httpServer, { token, loopbackOnly, corsOrigins });
  const queue = new RunQueue(runtime, executor, store, files, sockets.sink, limits, resolveInput);
  const app = createHttpApp({
    runtime,
    executor,
    queue,
    store,
    files,
    library,
    limits,
    version: packageVersion(),
    startedAt: Date.now(),
    ...(token !== undefined ? { token } : {}),
    loopbackOnly,
    corsOrigins,
    editorDir: options.editorDir ?? repoPath('apps/editor/dist'),
    assetsDir,
  });
  listener.app = app;
  sockets.serve(queue);

  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(options.port ?? 5151, host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await executor.close();
    await runtime.close();
    store.close();
    throw error;
  }
  queue.start();
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    await queue.close();
    sockets.io.disconnectSockets(true);
    await new Promise<void>((resolve) => {
      void sockets.io.close(() => resolve());
      httpServer.closeAllConnections();
    });
    await executor.close();
    await runtime.close();
    store.close();
  };
  return {
    url,
    host,
    port,
    runtime,
    close: () => (closing ??= close()),
  };
}

function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}
