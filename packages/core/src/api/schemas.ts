import { z } from 'zod';

import { NodeIdSchema, WorkflowSchema } from '../workflow/schema.js';
import { ASSET_NAME_PATTERN, FILE_ID_PATTERN, WORKFLOW_NAME_PATTERN } from './files.js';

/** The API's named schemas: /api/openapi.json lists them under components.schemas by these ids. */
export const apiRegistry = z.registry<{ id: string }>();

/**
 * Request and response bodies of the runtime server's HTTP API. The server validates requests with these
 * schemas and generates /api/openapi.json from them; the editor imports the inferred types.
 */

// ---------------------------------------------------------------- errors

/** One problem: a validation issue of the core (node, field, code) or a request problem (nodeId null). */
export const ApiIssueSchema = z
  .object({
    nodeId: z.string().nullable().describe('The node concerned; null for the request or document as a whole'),
    field: z.string().optional().describe('The param, input, body field or path concerned'),
    code: z.string().describe('A stable code, e.g. invalid_param, cycle, not_found, payload_too_large'),
    message: z.string(),
    nodes: z.array(z.string()).optional().describe('For cycles: the nodes around the loop'),
    edgeId: z.string().optional(),
  })
  .register(apiRegistry, { id: 'ApiIssue' });
export type ApiIssue = z.infer<typeof ApiIssueSchema>;

/** Every 4xx/5xx answer: all the problems found, at once. */
export const ApiErrorSchema = z
  .object({ errors: z.array(ApiIssueSchema).min(1) })
  .describe('Every 4xx and 5xx response has this shape')
  .register(apiRegistry, { id: 'ApiError' });
export type ApiError = z.infer<typeof ApiErrorSchema>;

// ---------------------------------------------------------------- shared pieces

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES).register(apiRegistry, { id: 'RunStatus' });
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** `running` while it executes; the rest are the executor's NodeRunStatus values. */
export const NODE_STATES = ['pending', 'running', 'cached', 'ran', 'failed', 'cancelled'] as const;
export const NodeStateSchema = z.enum(NODE_STATES).register(apiRegistry, { id: 'NodeState' });
export type NodeState = z.infer<typeof NodeStateSchema>;

export const FileIdSchema = z
  .string()
  .regex(FILE_ID_PATTERN, 'a file id is up_|out_|pv_ + 32 hex digits + .png|.jpg|.webp|.bin')
  .register(apiRegistry, { id: 'FileId' });

export const WorkflowNameSchema = z
  .string()
  .regex(WORKFLOW_NAME_PATTERN, 'names use letters, digits, "_" and "-" (1 to 100, no dots or slashes)')
  .register(apiRegistry, { id: 'WorkflowName' });

export const RunIdSchema = z
  .string()
  .regex(/^[0-9a-f-]{36}$/, 'a run id is a UUID')
  .register(apiRegistry, { id: 'RunId' });

export const RunErrorSchema = z
  .object({
    nodeId: z.string().nullable(),
    nodeType: z.string().optional(),
    field: z.string().optional(),
    code: z.string().describe('e.g. node_failed, invalid_input, internal_error, server_restarted'),
    message: z.string(),
  })
  .register(apiRegistry, { id: 'RunError' });

export const RunWarningSchema = z
  .object({
    nodeId: z.string(),
    nodeType: z.string(),
    code: z.string(),
    field: z.string().optional(),
    message: z.string(),
  })
  .register(apiRegistry, { id: 'RunWarning' });
// The TypeScript type is the executor's RunWarning (graph/events.ts); this schema describes it on the wire.
export type RunWarningWire = z.infer<typeof RunWarningSchema>;

/** A file a node emitted, stored by the server and downloadable at `url`. */
export const FileRefSchema = z
  .object({
    name: z.string().describe("The node's file name (SaveImage's prefix + number + .png)"),
    mime: z.string(),
    size: z.number().int().nonnegative(),
    fileId: FileIdSchema,
    url: z.string().describe('GET it: /api/files/<fileId>'),
  })
  .register(apiRegistry, { id: 'FileRef' });
export type FileRef = z.infer<typeof FileRefSchema>;

/** A small PNG of one IMAGE or MASK output of a node (the first image of a batch), stored as a `pv_` file. */
export const OutputPreviewSchema = z
  .object({
    output: z.string().describe("The node's output name"),
    socketType: z.enum(['IMAGE', 'MASK']),
    fileId: FileIdSchema,
    url: z.string().describe('GET it: /api/files/<fileId>'),
    width: z.number().int().positive().describe('Of the preview (at most 256 on its longest side)'),
    height: z.number().int().positive(),
    sourceWidth: z.number().int().positive().describe('Of the output value itself'),
    sourceHeight: z.number().int().positive(),
    batch: z.number().int().positive().describe('Images in the output (the preview shows the first)'),
  })
  .register(apiRegistry, { id: 'OutputPreview' });
export type OutputPreview = z.infer<typeof OutputPreviewSchema>;

export const RunNodeSchema = z
  .object({
    nodeId: z.string(),
    nodeType: z.string(),
    state: NodeStateSchema,
    ms: z.number().nonnegative().describe('Time spent running (0 when cached or not reached)'),
    cacheKey: z.string().optional(),
    progress: z.object({ step: z.number(), total: z.number() }).optional(),
    outputs: z.record(z.string(), z.string()).optional().describe('A short description of each output'),
    files: z.array(FileRefSchema),
    previews: z
      .array(OutputPreviewSchema)
      .optional()
      .describe('A preview of each IMAGE and MASK output, once the node has run or come from the cache'),
    error: RunErrorSchema.optional(),
  })
  .register(apiRegistry, { id: 'RunNode' });
export type RunNode = z.infer<typeof RunNodeSchema>;

const runFields = {
  runId: RunIdSchema,
  status: RunStatusSchema,
  name: z.string().describe("The workflow's name"),
  clientId: z.string().optional(),
  targets: z.array(z.string()).optional(),
  createdAt: z.number().describe('Milliseconds since the epoch'),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  ms: z.number().optional().describe('Run time, once finished'),
  position: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('While queued: how many runs will execute before it, the running one included'),
  error: RunErrorSchema.optional(),
  files: z.array(FileRefSchema.extend({ nodeId: z.string() })).describe('Every file the run emitted'),
  worker: z.string().optional().describe('Queue mode (serve --queue): the id of the worker that executed it'),
  attempts: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      'How many times it was started (more than 1 when a worker died or lost Redis while running it)',
    ),
};

export const RunSummarySchema = z
  .object({
    ...runFields,
    thumbnail: z
      .string()
      .optional()
      .describe("A picture of the run: its first image file, else its last IMAGE output's preview (a URL)"),
  })
  .register(apiRegistry, { id: 'RunSummary' });
export type RunSummary = z.infer<typeof RunSummarySchema>;

export const RunDetailSchema = z
  .object({
    ...runFields,
    nodes: z.array(RunNodeSchema).describe('Planned nodes in execution order (empty until the run starts)'),
    cached: z.array(z.string()).describe('Nodes served from the cache'),
    warnings: z.array(RunWarningSchema),
    issues: z.array(ApiIssueSchema).optional(),
    fingerprints: z
      .record(z.string(), z.record(z.string(), z.string()))
      .optional()
      .describe(
        "Once finished: node id → file/model param → the fingerprint that entered the node's cache key " +
          '(with the catalog and the workflow, a client computes the same keys: computeCanvasKeys)',
      ),
    workflow: z.unknown().describe('The submitted workflow document'),
  })
  .register(apiRegistry, { id: 'RunDetail' });
export type RunDetail = z.infer<typeof RunDetailSchema>;

// ---------------------------------------------------------------- routes' bodies

export const HealthSchema = z
  .object({
    ok: z.literal(true),
    version: z.string(),
    uptimeS: z.number(),
    auth: z.boolean().describe('Whether API calls need a bearer token'),
    queue: z.object({ running: RunIdSchema.nullable(), queued: z.number().int().nonnegative() }),
    workers: z
      .array(
        z.object({
          id: z.string(),
          models: z.array(z.string()).describe('Model folders it holds'),
          running: RunIdSchema.nullable(),
        }),
      )
      .optional()
      .describe('Queue mode (serve --queue): the live workers, as their heartbeats advertise them'),
    providers: z.object({
      configured: z.array(z.string()).describe('Execution providers tried, in order'),
      inUse: z.array(z.string()).describe('Providers the open sessions run on'),
      skipped: z
        .array(z.object({ provider: z.string(), reason: z.string() }))
        .describe('Providers that were tried and failed, and why'),
    }),
  })
  .register(apiRegistry, { id: 'Health' });
export type Health = z.infer<typeof HealthSchema>;

/** The catalog JSON that `catalogFromJSON` reads (one entry per node type). */
export const NodeCatalogJsonSchema = z
  .array(z.record(z.string(), z.unknown()))
  .describe('catalog.toJSON(): one entry per node type')
  .register(apiRegistry, { id: 'NodeCatalogJson' });

export const ModelListingSchema = z
  .object({
    name: z.string(),
    folder: z.string(),
    role: z.enum(['diffusion', 't5', 'blip']).optional(),
    sizeBytes: z.number(),
    loads: z.boolean(),
    loaded: z.boolean(),
    providers: z.record(z.string(), z.string()).optional(),
    error: z.object({ code: z.string(), message: z.string(), file: z.string().optional() }).optional(),
  })
  .register(apiRegistry, { id: 'ModelListing' });
export const ModelListSchema = z.array(ModelListingSchema).register(apiRegistry, { id: 'ModelList' });
export type ModelListing = z.infer<typeof ModelListingSchema>;

export const RunSubmitSchema = z
  .strictObject({
    workflow: z.unknown().describe('A workflow document (validated by the core: every problem is reported)'),
    targets: z.array(NodeIdSchema).min(1).max(1000).optional().describe('Run up to these nodes only'),
    clientId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional()
      .describe("Sockets connected with this clientId receive the run's events"),
  })
  .register(apiRegistry, { id: 'RunSubmit' });
export type RunSubmit = z.infer<typeof RunSubmitSchema>;

export const RunAcceptedSchema = z
  .object({
    runId: RunIdSchema,
    position: z
      .number()
      .int()
      .nonnegative()
      .describe('Runs that will execute before it, the running one included (0: it starts now)'),
  })
  .register(apiRegistry, { id: 'RunAccepted' });
export type RunAccepted = z.infer<typeof RunAcceptedSchema>;

export const RunListQuerySchema = z.strictObject({
  status: RunStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type RunListQuery = z.infer<typeof RunListQuerySchema>;

export const RunListSchema = z
  .object({
    runs: z.array(RunSummarySchema).describe('Newest first'),
    total: z.number().int().nonnegative().describe('Runs matching the filter'),
    limit: z.number().int(),
    offset: z.number().int(),
  })
  .register(apiRegistry, { id: 'RunList' });
export type RunList = z.infer<typeof RunListSchema>;

export const RunIdParamsSchema = z.strictObject({ id: RunIdSchema });
export const FileIdParamsSchema = z.strictObject({ fileId: FileIdSchema });
export const AssetNameParamsSchema = z.strictObject({
  name: z
    .string()
    .regex(ASSET_NAME_PATTERN, 'an example image name: letters, digits, "_", "-" + .png|.jpg|.jpeg|.webp'),
});
export const WorkflowNameParamsSchema = z.strictObject({ name: WorkflowNameSchema });

export const UploadSchema = z
  .object({
    fileId: FileIdSchema.describe("Put it in LoadImage's image or LoadMask's mask param"),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    mime: z.string(),
    size: z.number().int().positive(),
    url: z.string(),
  })
  .register(apiRegistry, { id: 'Upload' });
export type Upload = z.infer<typeof UploadSchema>;

export const WorkflowEntrySchema = z
  .object({
    name: WorkflowNameSchema,
    title: z.string().describe("The document's own name"),
    readOnly: z.boolean().describe('Shipped templates (workflows/*.json) cannot be changed or deleted'),
    updatedAt: z.number().nullable(),
  })
  .register(apiRegistry, { id: 'WorkflowEntry' });
export type WorkflowEntry = z.infer<typeof WorkflowEntrySchema>;

export const WorkflowListSchema = z
  .object({ workflows: z.array(WorkflowEntrySchema) })
  .register(apiRegistry, { id: 'WorkflowList' });
export type WorkflowList = z.infer<typeof WorkflowListSchema>;

/** A saved workflow must be a well-formed document; graph problems (unknown types, cycles) may be saved. */
export const WorkflowDocumentSchema = WorkflowSchema.register(apiRegistry, { id: 'WorkflowDocument' });

export const CacheStatsSchema = z
  .object({
    entries: z.number().int().nonnegative(),
    bytes: z.number().nonnegative(),
    budgetBytes: z.number().nonnegative(),
    hits: z.number().int().nonnegative(),
    misses: z.number().int().nonnegative(),
    evictions: z.number().int().nonnegative(),
    /** results kept per node at most (0: no limit) */
    variantsPerNode: z.number().int().nonnegative(),
  })
  .register(apiRegistry, { id: 'CacheStats' });
