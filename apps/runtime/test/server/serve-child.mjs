// A server in its own process for the kill -9 test. Its TestGate gates are never opened here, so a run waits
// at its gate until the test kills the process (no guessing how long a run takes).
import { startServer } from '@diffedit/runtime';

const server = await startServer({
  port: 0,
  dataDir: process.argv[2],
  log: () => {},
  nodeModules: [new URL('./test-nodes.mjs', import.meta.url).href],
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
