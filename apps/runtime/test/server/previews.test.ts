import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { NodePreviewEvent, OutputPreview, RunDetail, ServerEvent, SubscribeAck } from '@diffedit/core';

import { connectClient, eventsOf, runEnd, startTestServer } from './harness.js';
import type { TestServer } from './harness.js';
// @ts-expect-error -- plain JavaScript test nodes (loaded by the server's worker too), no type declarations
import { testPattern } from './test-nodes.mjs';

const pattern = testPattern as (
  x: number,
  y: number,
  w: number,
  h: number,
) => [number, number, number, number];

function patternWorkflow(width: number, height: number, batch = 1, filename = 'label.txt'): object {
  return {
    format: 'diffedit-studio.workflow',
    version: 1,
    name: `pattern ${width}x${height}x${batch}`,
    nodes: [
      { id: 'pattern', type: 'TestPattern', params: { width, height, batch } },
      { id: 'show', type: 'ShowValue', params: { filename } },
    ],
    edges: [{ id: 'e', from: { node: 'pattern', output: 'label' }, to: { node: 'show', input: 'value' } }],
  };
}

let test: TestServer;
let client: Awaited<ReturnType<typeof connectClient>>;

beforeAll(async () => {
  test = await startTestServer();
  client = await connectClient(test.url, { clientId: 'previews' });
});
afterAll(async () => {
  client?.close();
  await test?.close();
});

async function run(workflow: object): Promise<{ detail: RunDetail; events: ServerEvent[] }> {
  const accepted = await test.api.post('/api/runs').send({ workflow, clientId: 'previews' }).expect(202);
  const runId = accepted.body.runId as string;
  const detail = await runEnd(test, client, runId);
  expect(detail.status).toBe('succeeded');
  return { detail, events: eventsOf(client.events, runId) };
}

/** The preview's pixels as the server serves them: [width, height, channels, bytes]. */
async function fetchPixels(preview: OutputPreview): Promise<{ data: Buffer; channels: number }> {
  const response = await test.api.get(preview.url).buffer(true).expect(200);
  expect(response.headers['content-type']).toBe('image/png');
  const { data, info } = await sharp(response.body as Buffer)
    .raw()
    .toBuffer({ resolveWithObject: true });
  expect([info.width, info.height]).toEqual([preview.width, preview.height]);
  return { data, channels: info.channels };
}

/** Mean of the pattern over the factor×factor source pixels under preview pixel (px, py): [r, g, b, mask]. */
function boxAverage(px: number, py: number, factor: number, w: number, h: number): number[] {
  const sum = [0, 0, 0, 0];
  for (let dy = 0; dy < factor; dy++)
    for (let dx = 0; dx < factor; dx++)
      pattern(px * factor + dx, py * factor + dy, w, h).forEach((v, k) => (sum[k] += v));
  return sum.map((v) => v / (factor * factor));
}

describe('output previews', () => {
  let first: { detail: RunDetail; events: ServerEvent[] };

  it('sends one preview per IMAGE and MASK output, before node:done, downscaled to 256 px', async () => {
    first = await run(patternWorkflow(768, 384, 2));
    const previews = first.events.filter((e): e is NodePreviewEvent => e.type === 'node:preview');
    expect(previews.map((e) => [e.nodeId, e.preview.output, e.preview.socketType]).sort()).toEqual([
      ['pattern', 'image', 'IMAGE'],
      ['pattern', 'mask', 'MASK'],
    ]);
    const types = first.events.map((e) => e.type);
    const done = first.events.findIndex((e) => e.type === 'node:done' && e.nodeId === 'pattern');
    for (const e of previews) expect(first.events.indexOf(e)).toBeLessThan(done);
    expect(types.indexOf('node:start')).toBeLessThan(first.events.indexOf(previews[0]));
    for (const { preview } of previews) {
      expect(preview).toMatchObject({
        width: 256,
        height: 128,
        sourceWidth: 768,
        sourceHeight: 384,
        batch: 2,
      });
      expect(preview.fileId).toMatch(/^pv_[0-9a-f]{32}\.png$/);
      expect(preview.url).toBe(`/api/files/${preview.fileId}`);
    }
    // The run's record keeps them, as GET /api/runs/:id shows.
    const node = first.detail.nodes.find((n) => n.nodeId === 'pattern')!;
    expect(node.previews?.map((p) => p.fileId).sort()).toEqual(previews.map((e) => e.preview.fileId).sort());
    expect(first.detail.nodes.find((n) => n.nodeId === 'show')!.previews ?? []).toEqual([]);
  });

  it("has the output's pixels: the image a 3× downscale of it, the mask black and white where the mask is", async () => {
    const node = first.detail.nodes.find((n) => n.nodeId === 'pattern')!;
    const image = node.previews!.find((p) => p.output === 'image')!;
    const mask = node.previews!.find((p) => p.output === 'mask')!;

    const rgb = await fetchPixels(image);
    let total = 0;
    let worst = 0;
    for (let y = 0; y < 128; y++)
      for (let x = 0; x < 256; x++) {
        const expected = boxAverage(x, y, 3, 768, 384);
        for (let k = 0; k < 3; k++) {
          const diff = Math.abs(rgb.data[(y * 256 + x) * rgb.channels + k] - expected[k] * 255);
          total += diff;
          worst = Math.max(worst, diff);
        }
      }
    expect(total / (256 * 128 * 3)).toBeLessThan(1.5);
    expect(worst).toBeLessThan(12);

    const grey = await fetchPixels(mask);
    let inside = 0;
    let outside = 0;
    for (let y = 0; y < 128; y++)
      for (let x = 0; x < 256; x++) {
        const v = grey.data[(y * 256 + x) * grey.channels];
        expect(v === 0 || v === 255).toBe(true);
        // Where the 3×3 cell is wholly inside or outside the disc, the preview says so exactly.
        const coverage = boxAverage(x, y, 3, 768, 384)[3];
        if (coverage === 1) {
          expect(v).toBe(255);
          inside++;
        } else if (coverage === 0) {
          expect(v).toBe(0);
          outside++;
        }
      }
    expect(inside).toBeGreaterThan(5000);
    expect(outside).toBeGreaterThan(15000);
  });

  it("gives the history a thumbnail: the run's last IMAGE preview when it saved no image", async () => {
    const list = await test.api.get('/api/runs?limit=1').expect(200);
    const image = first.detail.nodes
      .find((n) => n.nodeId === 'pattern')!
      .previews!.find((p) => p.output === 'image')!;
    expect(list.body.runs[0]).toMatchObject({ runId: first.detail.runId, thumbnail: image.url });
  });

  it('keeps a small output at its own size', async () => {
    const { detail } = await run(patternWorkflow(40, 20));
    const previews = detail.nodes.find((n) => n.nodeId === 'pattern')!.previews!;
    expect(previews.map((p) => [p.output, p.width, p.height, p.batch]).sort()).toEqual([
      ['image', 40, 20, 1],
      ['mask', 40, 20, 1],
    ]);
    const mask = await fetchPixels(previews.find((p) => p.output === 'mask')!);
    for (let y = 0; y < 20; y++)
      for (let x = 0; x < 40; x++)
        expect(mask.data[(y * 40 + x) * mask.channels]).toBe(pattern(x, y, 40, 20)[3] * 255);
  });

  it('sends the previews of a node served from the cache too (the same files)', async () => {
    // ShowValue writes another file, so it runs again and TestPattern comes from the cache.
    const again = await run(patternWorkflow(768, 384, 2, 'again.txt'));
    const start = again.events.find((e) => e.type === 'run:start') as Extract<
      ServerEvent,
      { type: 'run:start' }
    >;
    expect(start.cached).toContain('pattern');
    const previews = again.events.filter((e): e is NodePreviewEvent => e.type === 'node:preview');
    const cached = again.events.findIndex((e) => e.type === 'node:cached' && e.nodeId === 'pattern');
    expect(cached).toBeGreaterThan(0);
    expect(previews).toHaveLength(2);
    for (const e of previews) expect(again.events.indexOf(e)).toBeLessThan(cached);
    const fileIds = (detail: RunDetail): string[] =>
      detail.nodes
        .find((n) => n.nodeId === 'pattern')!
        .previews!.map((p) => p.fileId)
        .sort();
    expect(again.detail.nodes.find((n) => n.nodeId === 'pattern')!.state).toBe('cached');
    expect(fileIds(again.detail)).toEqual(fileIds(first.detail));
    // A subscriber joining later gets them in the run's state.
    const late = await connectClient(test.url);
    try {
      const ack: SubscribeAck = await late.socket.emitWithAck('subscribe', { runId: again.detail.runId });
      if (!ack.ok) throw new Error(ack.errors[0].message);
      expect(ack.run.nodes.find((n) => n.nodeId === 'pattern')!.previews).toHaveLength(2);
    } finally {
      late.close();
    }
  });
});
