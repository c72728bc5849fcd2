import { z } from 'zod';

export const WORKFLOW_FORMAT = 'diffedit-studio.workflow';
/** The version this code writes. Older documents are migrated on load (see migrations.ts). */
export const WORKFLOW_VERSION = 1;

/**
 * Names every JavaScript object already has (constructor, toString, __proto__…). An id is a key of many
 * records (outputs, fingerprints, reports); these would reach Object.prototype instead of a node.
 */
export const RESERVED_IDS: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Node ids are short and free of dots so that `--set NODE.PARAM=VALUE` is unambiguous. */
export const NodeIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, 'ids use letters, digits, "_" and "-" (1 to 128 characters)')
  .refine((id) => !RESERVED_IDS.has(id), {
    message:
      'this id is a name every JavaScript object has (constructor, toString, __proto__…); choose another',
  });

export const PositionSchema = z.strictObject({ x: z.number(), y: z.number() });

export const WorkflowNodeSchema = z.strictObject({
  id: NodeIdSchema,
  type: z.string().min(1),
  /** Widget values by param name; values are checked against the node's definition, not here. */
  params: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('Widget values by param name; missing params take their defaults'),
  /** UI only: canvas position. */
  position: PositionSchema.optional().describe('UI only: canvas position'),
  /** UI only: a user-chosen title. */
  title: z.string().optional().describe('UI only: a user-chosen title'),
});

export const WorkflowEdgeSchema = z.strictObject({
  id: NodeIdSchema,
  from: z.strictObject({ node: NodeIdSchema, output: z.string().min(1) }),
  to: z.strictObject({ node: NodeIdSchema, input: z.string().min(1) }),
});

/** UI only: a labelled box around some nodes. */
export const WorkflowGroupSchema = z.looseObject({
  id: z.string().min(1),
  title: z.string(),
  nodes: z.array(NodeIdSchema).default([]),
  color: z.string().optional(),
  bounds: z.strictObject({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }).optional(),
});

export const WorkflowSchema = z.strictObject({
  /** Lets editors find the JSON Schema; ignored by the runtime. */
  $schema: z.string().optional(),
  format: z.literal(WORKFLOW_FORMAT),
  version: z.literal(WORKFLOW_VERSION).describe('Format version; older versions are migrated on load'),
  name: z.string(),
  description: z.string().default(''),
  nodes: z.array(WorkflowNodeSchema).describe('Node instances: id, type from the catalog, params'),
  edges: z
    .array(WorkflowEdgeSchema)
    .default([])
    .describe('Connections from an output of one node to an input of another'),
  groups: z.array(WorkflowGroupSchema).optional().describe('UI only: labelled boxes around nodes'),
  /** Free-form data for tools (editor viewport, authorship…); ignored by the runtime. */
  meta: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Free-form data for tools; ignored by the runtime'),
});

/** A parsed workflow document (defaults applied). */
export type Workflow = z.output<typeof WorkflowSchema>;
/** What may be written to a workflow file (defaulted fields optional). */
export type WorkflowInput = z.input<typeof WorkflowSchema>;
export type WorkflowNode = z.output<typeof WorkflowNodeSchema>;
export type WorkflowEdge = z.output<typeof WorkflowEdgeSchema>;
export type WorkflowGroup = z.output<typeof WorkflowGroupSchema>;
