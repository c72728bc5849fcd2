// A server in its own process for the kill -9 test: its TestGate node waits forever once entered, so the
// test can kill the process while a run is executing (no guessing how long a run takes).
import { defineNode } from '@diffedit/core';
import { createNodeCatalog } from '@diffedit/nodes';
import { startServer } from '@diffedit/runtime';

const BlockingGate = defineNode({
  type: 'TestGate',
  version: 1,
  title: 'Test gate',
  category: 'test',
  description: 'Never finishes (until the run is cancelled).',
  output: true,
  inputs: {},
  params: { name: { kind: 'string', default: 'gate' } },
  outputs: { text: { type: 'TEXT' } },
  async run(ctx) {
    ctx.progress(0, 1);
    await new Promise((_resolve, reject) =>
      ctx.signal.addEventListener('abort', () => reject(new Error('cancelled'))),
    );
  },
});

const server = await startServer({
  port: 0,
  dataDir: process.argv[2],
  log: () => {},
  runtime: { catalog: createNodeCatalog([BlockingGate]) },
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
