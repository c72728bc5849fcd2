import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ApiIssue, RunDetail } from '@diffedit/core';

import { generateMalformedWorkflows } from '../../../../test/fuzz/malformed-workflows.js';
import type { MalformedCase } from '../../../../test/fuzz/malformed-workflows.js';
import { connectClient, runEnd, startTestServer } from './harness.js';
import type { TestServer } from './harness.js';

const SEED = 20_261_126;
const cases = generateMalformedWorkflows(SEED);

/** Whether a reported problem is where the case says it is (same rule as the CLI replay). */
function isAt(where: MalformedCase['where'], problem: { nodeId: string | null; field?: string }): boolean {
  if (!where) return true;
  if (problem.nodeId !== where.nodeId) return false;
  if (where.field === undefined) return true;
  const field = problem.field ?? '';
  return field === where.field || field.startsWith(where.field) || field.split('.').includes(where.field);
}

let test: TestServer;
let client: Awaited<ReturnType<typeof connectClient>>;
beforeAll(async () => {
  // Every case comes from one address: lift the per-client queue limit so none is refused for that.
  test = await startTestServer({ limits: { maxQueuedPerClient: 10_000 } });
  client = await connectClient(test.url, { clientId: 'fuzz' });
});
afterAll(async () => {
  client?.close();
  await test?.close();
});

describe('the malformed-workflow generator replayed through POST /api/runs', () => {
  it(`refuses all ${cases.length} cases cleanly, and the server keeps serving`, async () => {
    const accepted: { c: MalformedCase; runId: string }[] = [];
    for (const c of cases) {
      const response = await test.api
        .post('/api/runs')
        .set('content-type', 'application/json')
        .send(`{"clientId":"fuzz","workflow":${c.text}}`);
      if (response.status === 202) {
        // Well formed but bound to fail when run (a missing model, a template placeholder): never a success.
        expect(c.expect, c.name).toBe('node-failure');
        accepted.push({ c, runId: response.body.runId as string });
        continue;
      }
      expect([400, 413], `${c.name}: ${response.status}`).toContain(response.status);
      const errors = (response.body as { errors?: ApiIssue[] }).errors ?? [];
      expect(errors.length, c.name).toBeGreaterThan(0);
      for (const e of errors)
        expect(typeof e.message === 'string' && typeof e.code === 'string', c.name).toBe(true);
      if (response.status === 413)
        expect(['huge-string', 'deep-nesting', 'big-graph'], c.name).toContain(c.kind);
      else
        expect(
          errors.some((e) => isAt(c.where, e)),
          `${c.name}: ${JSON.stringify(errors).slice(0, 300)}`,
        ).toBe(true);
    }
    // Files the server cannot read are refused before running; the rest fail at the named node.
    const refusedFiles = cases.filter((c) => c.expect === 'node-failure').length - accepted.length;
    expect(refusedFiles).toBeGreaterThan(0);
    for (const { c, runId } of accepted) {
      const run: RunDetail = await runEnd(test, client, runId);
      expect(run.status, c.name).toBe('failed');
      expect(run.error!.code, c.name).not.toBe('internal_error');
      expect(isAt(c.where, run.error!), `${c.name}: ${JSON.stringify(run.error)}`).toBe(true);
    }
    const health = await test.api.get('/api/health').expect(200);
    expect(health.body).toMatchObject({ ok: true, queue: { running: null, queued: 0 } });
  });
});
