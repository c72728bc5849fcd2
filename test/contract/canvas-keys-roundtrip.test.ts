import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  catalogFromJSON,
  checkParamValue,
  computeCanvasKeys,
  upstreamOf,
  validateWorkflow,
} from '@diffedit/core';
import type { NodeCatalog, NodeSpec, ParamSpec, ParamValue, RunEvent } from '@diffedit/core';
import { writeRunOutput } from '@diffedit/runtime';
import type { RunReport } from '@diffedit/runtime';

import { createToyRuntime, WORKFLOWS, withParams } from '../diffedit/harness.js';
import type { ToyRuntime, WorkflowDoc } from '../diffedit/harness.js';

/**
 * The editor's contract: holding only the catalog's JSON, a workflow and the last run's report, it computes
 * exactly the keys the executor uses, so it can mark stale nodes before a run.
 */
const shipped = [
  ...readdirSync(WORKFLOWS)
    .filter((f) => f.endsWith('.json') && f !== 'workflow.schema.json')
    .map((f) => join(WORKFLOWS, f)),
  ...readdirSync(join(WORKFLOWS, 'golden')).map((f) => join(WORKFLOWS, 'golden', f)),
];
/** A shipped workflow; nodes written without params get `{}` so that withParams can edit them. */
function load(path: string): WorkflowDoc {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as WorkflowDoc;
  for (const node of doc.nodes) node.params ??= {};
  return doc;
}

let toy: ToyRuntime;
let specs: NodeCatalog<NodeSpec>;
let catalogJson: unknown;

beforeAll(async () => {
  toy = await createToyRuntime();
  // What a client gets: the JSON text, not the objects.
  catalogJson = JSON.parse(JSON.stringify(toy.runtime.listNodes()));
  specs = catalogFromJSON(catalogJson);
});
afterAll(async () => toy?.close());

/** A different valid value for a param (undefined for file/model params, whose values name things on disk). */
function editedValue(spec: ParamSpec, value: ParamValue): ParamValue | undefined {
  const candidates: unknown[] =
    spec.kind === 'bool'
      ? [!value]
      : spec.kind === 'enum'
        ? spec.options.filter((o) => o !== value)
        : spec.kind === 'string' || spec.kind === 'text'
          ? [`${String(value)} edited`]
          : spec.kind === 'number' || spec.kind === 'int' || spec.kind === 'seed'
            ? [Number(value) + 1, Number(value) - 1, Number(value) / 2, Number(value) + 0.01]
            : [];
  return candidates.find((c) => c !== value && checkParamValue(spec, c) === undefined) as
    ParamValue | undefined;
}

describe('catalogFromJSON on the built-in catalog', () => {
  it('round-trips without loss and validates every shipped workflow as the runtime does', () => {
    expect(specs.toJSON()).toEqual(catalogJson);
    for (const path of shipped) {
      const doc = load(path);
      expect(validateWorkflow(doc, specs), path).toEqual(toy.runtime.validate(doc));
    }
  });
});

describe.each(shipped.map((path) => [path.slice(WORKFLOWS.length + 1), path]))(
  'keys of %s from the catalog JSON and the report',
  (_name, path) => {
    it('equal the executor keys, and change exactly downstream of an edited param', async () => {
      const doc = load(path);
      const outDir = mkdtempSync(join(tmpdir(), 'diffedit-keys-'));
      const events: RunEvent[] = [];
      const result = await toy.runtime.run(doc, { onEvent: (e) => events.push(e) });
      expect(result.status).toBe('done');
      await writeRunOutput(outDir, 'w', result, toy.runtime.cache.stats());
      const report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as RunReport;

      const executorKeys = Object.fromEntries(
        Object.entries(report.nodes).map(([id, n]) => [id, n.cacheKey]),
      );
      expect(Object.keys(executorKeys).length).toBeGreaterThan(1);
      const start = events.find((e) => e.type === 'run:start');
      expect(start?.type === 'run:start' && start.keys).toEqual(executorKeys);
      for (const e of events) if (e.type === 'node:done') expect(e.cacheKey).toBe(executorKeys[e.nodeId]);

      const canvas = computeCanvasKeys(specs, doc, report.fingerprints);
      expect(canvas.unkeyed).toEqual([]);
      const pick = (keys: Record<string, string>) =>
        Object.fromEntries(Object.keys(executorKeys).map((id) => [id, keys[id]]));
      expect(pick(canvas.keys)).toEqual(executorKeys);

      const dependencies = doc.edges.map((e) => ({ from: e.from.node, to: e.to.node }));
      const downstreamOf = (id: string): Set<string> =>
        new Set(doc.nodes.map((n) => n.id).filter((n) => upstreamOf([n], dependencies).has(id)));
      // Nodes that embed the document change with any edit, and so does everything they feed.
      const readers = doc.nodes.filter((n) => specs.get(n.type)!.readsWorkflow).map((n) => n.id);
      let edits = 0;
      for (const node of doc.nodes) {
        const spec = specs.get(node.type)!;
        for (const [param, paramSpec] of Object.entries(spec.params)) {
          const current = (node.params[param] as ParamValue | undefined) ?? paramSpec.default;
          const value = editedValue(paramSpec, current);
          if (value === undefined) continue;
          edits++;
          const edited = withParams(doc, { [node.id]: { [param]: value } });
          const keys = computeCanvasKeys(specs, edited, report.fingerprints).keys;
          const changed = Object.keys(executorKeys).filter((id) => keys[id] !== executorKeys[id]);
          const expected = new Set([node.id, ...readers].flatMap((id) => [...downstreamOf(id)]));
          expect(changed.sort(), `${node.id}.${param} = ${JSON.stringify(value)}`).toEqual(
            Object.keys(executorKeys)
              .filter((id) => expected.has(id))
              .sort(),
          );
          // The executor agrees: the keys of the edited run, read from run:start (stopped right there).
          const controller = new AbortController();
          let started: Record<string, string> = {};
          await toy.runtime.run(edited, {
            signal: controller.signal,
            onEvent: (e) => {
              if (e.type !== 'run:start') return;
              started = e.keys;
              controller.abort();
            },
          });
          expect(pick(keys)).toEqual(started);
        }
      }
      expect(edits).toBeGreaterThan(0);
    });
  },
);
