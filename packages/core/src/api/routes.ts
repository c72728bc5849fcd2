import { z } from 'zod';

import {
  ApiErrorSchema,
  apiRegistry,
  AssetNameParamsSchema,
  CacheStatsSchema,
  FileIdParamsSchema,
  HealthSchema,
  ModelListSchema,
  NodeCatalogJsonSchema,
  RunAcceptedSchema,
  RunDetailSchema,
  RunIdParamsSchema,
  RunListQuerySchema,
  RunListSchema,
  RunSubmitSchema,
  UploadSchema,
  WorkflowDocumentSchema,
  WorkflowListSchema,
  WorkflowNameParamsSchema,
} from './schemas.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

export interface RouteResponse {
  description: string;
  /** JSON body; absent for empty (204) or binary answers. */
  schema?: z.ZodType;
  /** For binary answers (files). */
  contentType?: string;
}

/** One HTTP route: the server validates with these schemas and /api/openapi.json is generated from them. */
export interface ApiRoute {
  method: HttpMethod;
  /** Express-style path (`/api/runs/:id`). */
  path: string;
  operationId: string;
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** A JSON body schema, or 'multipart' for uploads (a single `file` field). */
  body?: z.ZodType | 'multipart';
  responses: Record<number, RouteResponse>;
}

const error = (description: string): RouteResponse => ({ description, schema: ApiErrorSchema });

/** Every route of the API. */
export const API_ROUTES = {
  health: {
    method: 'get',
    path: '/api/health',
    operationId: 'getHealth',
    summary: 'Version, execution providers in use (and why others were skipped), queue length, uptime',
    responses: { 200: { description: 'The server is up', schema: HealthSchema } },
  },
  nodes: {
    method: 'get',
    path: '/api/nodes',
    operationId: 'listNodes',
    summary: 'The node catalog JSON (what catalogFromJSON reads)',
    responses: { 200: { description: 'One entry per node type', schema: NodeCatalogJsonSchema } },
  },
  models: {
    method: 'get',
    path: '/api/models',
    operationId: 'listModels',
    summary: 'The models folder as `diffedit models --json` lists it',
    responses: { 200: { description: 'One entry per model folder', schema: ModelListSchema } },
  },
  submitRun: {
    method: 'post',
    path: '/api/runs',
    operationId: 'submitRun',
    summary: 'Validate a workflow and queue a run',
    body: RunSubmitSchema,
    responses: {
      202: { description: 'Queued', schema: RunAcceptedSchema },
      400: error('Malformed body or invalid workflow: every problem, with node id, field and code'),
      413: error('The body is larger than the JSON limit'),
      429: error('Too many queued runs for this client'),
      503: error('The server is shutting down'),
    },
  },
  listRuns: {
    method: 'get',
    path: '/api/runs',
    operationId: 'listRuns',
    summary: 'Run history, newest first, paged, optionally filtered by status',
    query: RunListQuerySchema,
    responses: { 200: { description: 'A page of runs', schema: RunListSchema }, 400: error('Bad query') },
  },
  getRun: {
    method: 'get',
    path: '/api/runs/:id',
    operationId: 'getRun',
    summary: 'A run: status, per-node states, timings, cache keys, warnings, errors, files',
    params: RunIdParamsSchema,
    responses: {
      200: { description: 'The run', schema: RunDetailSchema },
      400: error('Not a run id'),
      404: error('No such run'),
    },
  },
  cancelRun: {
    method: 'delete',
    path: '/api/runs/:id',
    operationId: 'cancelRun',
    summary: 'Cancel a queued or running run',
    params: RunIdParamsSchema,
    responses: {
      200: {
        description: 'Cancelled (or cancelling: the running node stops at its next step)',
        schema: RunDetailSchema,
      },
      400: error('Not a run id'),
      404: error('No such run'),
      409: error('The run has already finished'),
    },
  },
  upload: {
    method: 'post',
    path: '/api/uploads',
    operationId: 'uploadImage',
    summary: 'Upload an image (PNG, JPEG or WebP, sniffed from its bytes) for LoadImage / LoadMask',
    body: 'multipart',
    responses: {
      201: { description: 'Stored', schema: UploadSchema },
      400: error('No file, or an image that does not decode'),
      413: error('Larger than the upload limit (bytes or pixels)'),
      415: error('Not a PNG, JPEG or WebP image (judged from the bytes, not the name)'),
    },
  },
  getFile: {
    method: 'get',
    path: '/api/files/:fileId',
    operationId: 'getFile',
    summary: 'An uploaded image, a run output or a preview, with its content type',
    params: FileIdParamsSchema,
    responses: {
      200: { description: 'The file', contentType: 'application/octet-stream' },
      400: error('Not a file id'),
      404: error('No such file'),
    },
  },
  getAsset: {
    method: 'get',
    path: '/api/assets/:name',
    operationId: 'getAsset',
    summary: "A shipped example image (workflows/assets), what an image param 'assets/NAME' reads",
    params: AssetNameParamsSchema,
    responses: {
      200: { description: 'The image', contentType: 'application/octet-stream' },
      400: error('Not an example image name'),
      404: error('No such example image'),
    },
  },
  listWorkflows: {
    method: 'get',
    path: '/api/workflows',
    operationId: 'listWorkflows',
    summary: 'Saved workflows and the shipped templates (read-only)',
    responses: { 200: { description: 'The library', schema: WorkflowListSchema } },
  },
  getWorkflow: {
    method: 'get',
    path: '/api/workflows/:name',
    operationId: 'getWorkflow',
    summary: 'A saved workflow or template document',
    params: WorkflowNameParamsSchema,
    responses: {
      200: { description: 'The document', schema: WorkflowDocumentSchema },
      400: error('Not a workflow name'),
      404: error('No such workflow'),
    },
  },
  putWorkflow: {
    method: 'put',
    path: '/api/workflows/:name',
    operationId: 'saveWorkflow',
    summary: 'Save (create or replace) a workflow; graph problems may be saved, a malformed document may not',
    params: WorkflowNameParamsSchema,
    body: WorkflowDocumentSchema,
    responses: {
      200: { description: 'Saved', schema: WorkflowListSchema.shape.workflows.element },
      400: error('Not a workflow name, or not a workflow document'),
      403: error('A shipped template is read-only'),
      413: error('The body is larger than the JSON limit'),
    },
  },
  deleteWorkflow: {
    method: 'delete',
    path: '/api/workflows/:name',
    operationId: 'deleteWorkflow',
    summary: 'Delete a saved workflow',
    params: WorkflowNameParamsSchema,
    responses: {
      204: { description: 'Deleted' },
      400: error('Not a workflow name'),
      403: error('A shipped template is read-only'),
      404: error('No such workflow'),
    },
  },
  cache: {
    method: 'get',
    path: '/api/cache',
    operationId: 'getCache',
    summary: 'The intermediate-result cache: entries, bytes, budget, hits, misses',
    responses: { 200: { description: 'Cache statistics', schema: CacheStatsSchema } },
  },
  clearCache: {
    method: 'delete',
    path: '/api/cache',
    operationId: 'clearCache',
    summary: 'Empty the intermediate-result cache',
    responses: { 200: { description: 'Statistics after clearing', schema: CacheStatsSchema } },
  },
  openapi: {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1' } },
  },
} as const satisfies Record<string, ApiRoute>;

export type ApiRouteName = keyof typeof API_ROUTES;

/** `/api/runs/:id` → `/api/runs/{id}`. */
function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

type JsonObject = Record<string, unknown>;

/** The OpenAPI 3.1 document of `routes`, generated from their zod schemas. */
export function openApiDocument(
  info: { title?: string; version: string },
  routes: Record<string, ApiRoute> = API_ROUTES,
): JsonObject {
  const uri = (id: string): string => `#/components/schemas/${id}`;
  const { schemas } = z.toJSONSchema(apiRegistry, { io: 'input', uri, unrepresentable: 'any' }) as {
    schemas: Record<string, JsonObject>;
  };
  // zod stamps each with $schema and a fragment $id, neither of which belongs inside an OpenAPI document.
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  // Named schemas are referenced; the others (params, query fields) are inlined whole.
  const jsonSchema = (schema: z.ZodType): JsonObject => {
    const id = apiRegistry.get(schema)?.id;
    if (id !== undefined) return { $ref: uri(id) };
    const converted = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonObject;
    delete converted.$schema;
    return converted;
  };

  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of Object.values(routes)) {
    const parameters: JsonObject[] = [];
    for (const [where, schema] of [
      ['path', route.params],
      ['query', route.query],
    ] as const) {
      if (!schema) continue;
      for (const [name, field] of Object.entries(schema.shape)) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
          schema: jsonSchema(field as z.ZodType),
        });
      }
    }
    const operation: JsonObject = { operationId: route.operationId, summary: route.summary };
    if (parameters.length > 0) operation.parameters = parameters;
    if (route.body === 'multipart') {
      operation.requestBody = {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              required: ['file'],
              properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } },
            },
          },
        },
      };
    } else if (route.body) {
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: jsonSchema(route.body) } },
      };
    }
    const responses: JsonObject = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const content = response.schema
        ? { 'application/json': { schema: jsonSchema(response.schema) } }
        : response.contentType
          ? { [response.contentType]: { schema: { type: 'string', contentMediaType: response.contentType } } }
          : undefined;
      responses[status] = { description: response.description, ...(content ? { content } : {}) };
    }
    operation.responses = responses;
    (paths[openApiPath(route.path)] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title ?? 'DiffEdit Studio runtime API', version: info.version },
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{}, { bearer: [] }],
    paths,
  };
}
