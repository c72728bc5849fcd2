import { z } from 'zod';

import { WorkflowSchema } from './schema.js';

/** The JSON Schema of a workflow file, committed as workflows/workflow.schema.json for other tools. */
export function workflowJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(WorkflowSchema, { io: 'input', target: 'draft-2020-12' });
  return {
    $id: 'https://diffedit-studio.dev/schemas/workflow.schema.json',
    title: 'DiffEdit Studio workflow',
    ...schema,
  };
}
