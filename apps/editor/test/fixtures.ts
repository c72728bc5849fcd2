import { readFileSync } from 'node:fs';

import { parseWorkflow } from '@diffedit/core';
import type { Workflow } from '@diffedit/core';
import { listNodes } from '@diffedit/nodes';

import { editorCatalog } from '../src/util/catalog.js';
import type { EditorCatalog } from '../src/util/catalog.js';

/** The catalog exactly as GET /api/nodes serves it (JSON round trip), as the editor builds it. */
export function serverCatalog(): EditorCatalog {
  return editorCatalog(JSON.parse(JSON.stringify(listNodes())));
}

export function shippedWorkflow(name = 'diffedit-prompts'): Workflow {
  const raw: unknown = JSON.parse(
    readFileSync(new URL(`../../../workflows/${name}.json`, import.meta.url), 'utf8'),
  );
  const parsed = parseWorkflow(raw);
  if (!parsed.ok) throw new Error(`workflows/${name}.json does not parse`);
  return parsed.workflow;
}
