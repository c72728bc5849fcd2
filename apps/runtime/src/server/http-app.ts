import { existsSync } from 'node:fs';
import { join } from 'node:path';

import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import multer from 'multer';
import type { z } from 'zod';

import { API_ROUTES, openApiDocument, RunListQuerySchema } from '@diffedit/core';
import type { ApiIssue, ApiRoute, CacheStats, Health } from '@diffedit/core';

import type { Runtime } from '../runtime.js';
import { bearerToken, hostNameOf, isLoopbackHost, isSameOrigin, tokenMatches } from './auth.js';
import { confinedPath, PathRefusedError } from './data-folder.js';
import { UploadRejectedError } from './files.js';
import type { FileStore } from './files.js';
import { ApiProblem, problem } from './problems.js';
import type { RunQueue } from './run-queue.js';
import type { RunExecutor } from './run-executor.js';
import type { ServerStore } from './store.js';
import type { WorkflowLibrary } from './workflow-library.js';

export interface HttpLimits {
  /** JSON request bodies, bytes. */
  jsonBytes: number;
  /** Uploaded files, bytes. */
  uploadBytes: number;
}

export interface HttpAppOptions {
  /** The main thread's runtime: the catalog and validation. */
  runtime: Runtime;
  /** The run worker (or the queue of workers): models, providers and the output cache live there. */
  executor: RunExecutor;
  queue: RunQueue;
  store: ServerStore;
  files: FileStore;
  library: WorkflowLibrary;
  limits: HttpLimits;
  version: string;
  startedAt: number;
  /** Bearer token every /api call must present; none on loopback without --token. */
  token?: string;
  /** Bound to a loopback address: then only loopback Host headers are served (DNS rebinding). */
  loopbackOnly: boolean;
  /** The built editor, served at `/` when present. */
  editorDir: string;
  /** The shipped example images (`assets/NAME` params), served at /api/assets/NAME. */
  assetsDir: string;
  /** Origins (`http://host:port`) whose pages may call the API (CORS); none by default. */
  corsOrigins: readonly string[];
}

/** Types a served file may keep; anything else is sent as a download, never rendered in the page's origin. */
const SERVED_AS_IS = new Set(['image/png', 'image/jpeg', 'image/webp', 'text/plain', 'application/json']);

export function createHttpApp(options: HttpAppOptions): express.Express {
  const { runtime, executor, queue, files, library, limits } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use((req, _res, next) => {
    const host = hostNameOf(req.headers.host);
    if (options.loopbackOnly && (host === undefined || !isLoopbackHost(host)))
      return next(problem(421, 'misdirected_request', 'this server answers only to localhost / 127.0.0.1'));
    next();
  });
  app.use(
    helmet({
      contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:', 'blob:'] } },
    }),
  );

  const api = express.Router();
  const allowed = (origin: string | undefined): boolean =>
    origin !== undefined && options.corsOrigins.includes(origin);
  api.use((req, res, next) => {
    if (allowed(req.headers.origin)) {
      res.setHeader('Access-Control-Allow-Origin', req.headers.origin!);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE');
      if (req.method === 'OPTIONS') return void res.status(204).end();
    }
    // A page on another site must not be able to drive this server through the visitor's browser.
    const write = req.method !== 'GET' && req.method !== 'HEAD';
    if (write && !isSameOrigin(req.headers.origin, req.headers.host) && !allowed(req.headers.origin))
      return next(problem(403, 'cross_origin', 'cross-origin requests are refused'));
    if (options.token !== undefined && !tokenMatches(options.token, bearerToken(req.headers.authorization)))
      return next(problem(401, 'unauthorized', 'this server needs Authorization: Bearer <token>'));
    next();
  });
  const json = express.json({ limit: limits.jsonBytes, strict: false });
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: limits.uploadBytes, files: 1, fields: 10, parts: 12 },
  }).single('file');

  const on = (route: ApiRoute, ...handlers: express.RequestHandler[]): void => {
    api[route.method](route.path.replace(/^\/api/, ''), ...handlers);
  };

  on(API_ROUTES.health, (_req, res) => {
    const info = executor.providerInfoNow();
    const inUse = [...new Set(info.sessions.map((s) => s.provider))];
    const skipped = new Map<string, string>();
    for (const session of info.sessions)
      for (const attempt of session.attempts)
        if (!attempt.ok && !skipped.has(attempt.provider))
          skipped.set(attempt.provider, attempt.error ?? 'failed');
    const health: Health = {
      ok: true,
      version: options.version,
      uptimeS: Math.round((Date.now() - options.startedAt) / 100) / 10,
      auth: options.token !== undefined,
      queue: { running: queue.runningId, queued: queue.length },
      ...(executor.workersNow ? { workers: executor.workersNow() } : {}),
      providers: {
        configured: [...info.configured],
        inUse,
        skipped: [...skipped].map(([provider, reason]) => ({ provider, reason })),
      },
    };
    res.json(health);
  });

  on(API_ROUTES.nodes, (_req, res) => void res.json(runtime.listNodes()));

  on(API_ROUTES.models, async (_req, res) => {
    res.json(await executor.call('listModels'));
  });

  on(API_ROUTES.submitRun, json, (req, res) => {
    const body = parse(
      API_ROUTES.submitRun.body,
      req.body,
      'body',
      'a JSON body (content-type: application/json)',
    );
    const accepted = queue.submit(body, req.socket.remoteAddress ?? 'unknown');
    res.status(202).json(accepted);
  });

  on(API_ROUTES.listRuns, (req, res) => {
    const query = parse(RunListQuerySchema, req.query, 'query');
    res.json({ ...options.store.listRuns(query), limit: query.limit, offset: query.offset });
  });

  on(API_ROUTES.getRun, (req, res) => {
    const { id } = parse(API_ROUTES.getRun.params, req.params, 'path');
    const run = queue.get(id);
    if (!run) throw problem(404, 'not_found', `no run ${id}`);
    res.json(run);
  });

  on(API_ROUTES.cancelRun, async (req, res) => {
    const { id } = parse(API_ROUTES.cancelRun.params, req.params, 'path');
    res.json(await queue.cancel(id));
  });

  on(API_ROUTES.upload, upload, async (req, res) => {
    if (!req.file)
      throw problem(400, 'no_file', 'send the image as multipart/form-data in a field named "file"', 'file');
    res.status(201).json(await files.storeUpload(req.file.buffer, req.file.originalname));
  });

  on(API_ROUTES.getFile, (req, res, next) => {
    const { fileId } = parse(API_ROUTES.getFile.params, req.params, 'path');
    const found = files.find(fileId);
    if (!found || !existsSync(found.path)) throw problem(404, 'not_found', `no file ${fileId}`);
    const asIs = SERVED_AS_IS.has(found.record.mime);
    res.sendFile(
      found.path,
      {
        headers: {
          'Content-Type': asIs ? found.record.mime : 'application/octet-stream',
          'Content-Disposition': `${asIs ? 'inline' : 'attachment'}; filename="${found.record.name.replace(/[^\w.-]/g, '_')}"`,
          'Cache-Control': 'private, max-age=31536000, immutable',
        },
      },
      (error) => error && next(error),
    );
  });

  on(API_ROUTES.getAsset, (req, res, next) => {
    const { name } = parse(API_ROUTES.getAsset.params, req.params, 'path');
    const path = confinedPath(options.assetsDir, name, 'asset name');
    if (!existsSync(path)) throw problem(404, 'not_found', `no example image ${name}`);
    const extension = name.slice(name.lastIndexOf('.') + 1);
    res.sendFile(
      path,
      {
        headers: {
          'Content-Type':
            extension === 'png' ? 'image/png' : extension === 'webp' ? 'image/webp' : 'image/jpeg',
          'Cache-Control': 'private, max-age=3600',
        },
      },
      (error) => error && next(error),
    );
  });

  on(API_ROUTES.listWorkflows, (_req, res) => void res.json({ workflows: library.list() }));

  on(API_ROUTES.getWorkflow, (req, res) => {
    const { name } = parse(API_ROUTES.getWorkflow.params, req.params, 'path');
    res.json(library.get(name));
  });

  on(API_ROUTES.putWorkflow, json, async (req, res) => {
    const { name } = parse(API_ROUTES.putWorkflow.params, req.params, 'path');
    parse(API_ROUTES.putWorkflow.body, req.body, 'body', 'a workflow document as JSON');
    res.json(await library.put(name, req.body));
  });

  on(API_ROUTES.deleteWorkflow, async (req, res) => {
    const { name } = parse(API_ROUTES.deleteWorkflow.params, req.params, 'path');
    await library.delete(name);
    res.status(204).end();
  });

  on(API_ROUTES.cache, async (_req, res) => void res.json(cacheStats(await executor.call('cacheStats'))));
  on(
    API_ROUTES.clearCache,
    async (_req, res) => void res.json(cacheStats(await executor.call('clearCache'))),
  );

  const openapi = openApiDocument({ version: options.version });
  on(API_ROUTES.openapi, (_req, res) => void res.json(openapi));

  api.use((req) => {
    throw problem(404, 'not_found', `no route ${req.method} ${req.path.slice(0, 200)}`);
  });
  app.use('/api', api);

  // The editor when built; a placeholder page that points at the API otherwise.
  if (existsSync(join(options.editorDir, 'index.html'))) {
    app.use(express.static(options.editorDir, { index: 'index.html', dotfiles: 'ignore' }));
    app.get(/^\/(?!api\/|socket\.io\/).*/, (_req, res) =>
      res.sendFile(join(options.editorDir, 'index.html')),
    );
  } else {
    app.get('/', (_req, res) => void res.type('html').send(PLACEHOLDER));
  }

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, issues } = toProblem(error);
    if (status >= 500 && !(error instanceof ApiProblem))
      console.error(`[server] ${req.method} ${req.originalUrl}:`, error);
    if (!res.headersSent) res.status(status).json({ errors: issues });
  });
  return app;
}

function cacheStats(stats: CacheStats): z.infer<(typeof API_ROUTES)['cache']['responses'][200]['schema']> {
  return {
    entries: stats.entries,
    bytes: stats.bytes,
    budgetBytes: stats.budgetBytes,
    hits: stats.hits,
    misses: stats.misses,
    evictions: stats.evictions,
    variantsPerNode: stats.variantsPerNode,
  };
}

/** Parses a request part with its route's schema; a failure is a 400 listing every problem. */
function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
  expected?: string,
): z.output<S> {
  if (value === undefined && expected !== undefined)
    throw problem(400, 'invalid_request', `expected ${expected}`, where);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ApiProblem(
    400,
    result.error.issues.map((issue) => ({
      nodeId: null,
      field: [where, ...issue.path.map(String)].join('.'),
      code: 'invalid_request',
      message: issue.message,
    })),
  );
}

interface BodyParserError {
  type?: string;
  status?: number;
  message?: string;
}

function toProblem(error: unknown): { status: number; issues: ApiIssue[] } {
  if (error instanceof ApiProblem) return { status: error.status, issues: error.issues };
  const one = (
    status: number,
    code: string,
    message: string,
    field?: string,
  ): { status: number; issues: ApiIssue[] } => ({
    status,
    issues: [{ nodeId: null, code, message, ...(field !== undefined ? { field } : {}) }],
  });
  if (error instanceof UploadRejectedError) return one(error.status, error.code, error.message, 'file');
  if (error instanceof PathRefusedError) return one(400, 'invalid_name', error.message);
  if (error instanceof multer.MulterError) {
    if (error.code === 'LIMIT_FILE_SIZE')
      return one(413, 'payload_too_large', 'the file is larger than the upload limit', 'file');
    return one(400, 'invalid_upload', error.message, error.field);
  }
  const parserError = error as BodyParserError;
  switch (parserError?.type) {
    case 'entity.too.large':
      return one(413, 'payload_too_large', 'the body is larger than the JSON limit', 'body');
    case 'entity.parse.failed':
      return one(400, 'invalid_json', `the body is not valid JSON: ${parserError.message ?? ''}`, 'body');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return one(415, 'unsupported_media_type', parserError.message ?? 'unsupported encoding', 'body');
  }
  if (typeof parserError?.status === 'number' && parserError.status >= 400 && parserError.status < 500)
    return one(parserError.status, 'bad_request', parserError.message ?? 'bad request');
  return one(500, 'internal_error', 'internal error (see the server log)');
}

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DiffEdit Studio</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>DiffEdit Studio runtime</h1>
<p>The editor has not been built yet (<code>npm run build</code>). The API is at
<a href="/api/health">/api/health</a>; its description at <a href="/api/openapi.json">/api/openapi.json</a>.</p>
</body></html>
`;
