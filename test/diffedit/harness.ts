import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { InputsFolderKey, ServiceRegistry } from '@diffedit/core';
import type { RunEvent, RunResult } from '@diffedit/core';
import { ModelManager, ModelManagerKey } from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';
import { createRuntime } from '@diffedit/runtime';
import type { Runtime } from '@diffedit/runtime';

export const REPO = resolve(import.meta.dirname, '../..');
export const WORKFLOWS = join(REPO, 'workflows');

export interface ToyRuntime {
  runtime: Runtime;
  manager: ModelManager;
  modelsDir: string;
  inputsDir: string;
  close(): Promise<void>;
}

/** A runtime over a freshly written toy pack (in-process inference, no worker build needed). */
export async function createToyRuntime(inputsDir = WORKFLOWS): Promise<ToyRuntime> {
  const modelsDir = mkdtempSync(join(tmpdir(), 'diffedit-toy-'));
  await writeToyPack(modelsDir);
  const manager = new ModelManager({ modelsDir, mode: 'in-process', providers: ['cpu'], logger: () => {} });
  const services = new ServiceRegistry()
    .set(InputsFolderKey, { root: inputsDir, resolve: (p: string) => resolve(inputsDir, p) })
    .set(ModelManagerKey, manager);
  const runtime = createRuntime({ services, inputsDir, modelsDir });
  return { runtime, manager, modelsDir, inputsDir, close: () => manager.close() };
}

export interface WorkflowDoc {
  nodes: { id: string; type: string; params: Record<string, unknown> }[];
  edges: { id: string; from: { node: string; output: string }; to: { node: string; input: string } }[];
  [key: string]: unknown;
}

export function loadWorkflow(name: string): WorkflowDoc {
  return JSON.parse(readFileSync(join(WORKFLOWS, name), 'utf8')) as WorkflowDoc;
}

/** A copy of `workflow` with some params replaced: { nodeId: { param: value } }. */
export function withParams(
  workflow: WorkflowDoc,
  changes: Record<string, Record<string, unknown>>,
): WorkflowDoc {
  const copy = structuredClone(workflow);
  for (const [id, params] of Object.entries(changes)) {
    const node = copy.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`withParams: no node ${id}`);
    Object.assign(node.params, params);
  }
  return copy;
}

/** Runs and records the events; throws with the run's error when it did not finish. */
export async function runRecorded(
  runtime: Runtime,
  workflow: unknown,
  options: { targets?: string[]; allowFailure?: boolean } = {},
): Promise<{ result: RunResult; events: RunEvent[]; ran: string[] }> {
  const events: RunEvent[] = [];
  const result = await runtime.run(workflow, { onEvent: (e) => events.push(e), targets: options.targets });
  if (result.status !== 'done' && !options.allowFailure) {
    throw new Error(`run ${result.status}: ${JSON.stringify(result.error ?? result.issues)}`);
  }
  const ran = events.flatMap((e) => (e.type === 'node:start' ? [e.nodeId] : []));
  return { result, events, ran };
}
