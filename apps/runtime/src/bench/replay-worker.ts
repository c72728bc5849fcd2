/**
 * The bench's minimal replay in a worker thread of its own: an isolate with nothing else in it, like the
 * product's model worker, so that the floor is not taken on the bench's main thread.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

import { openOrtSession, toOrtFeeds } from '@diffedit/nodes';
import type { SessionCreateOptions } from '@diffedit/nodes';

import type { RecordedCall } from './model-calls.js';

interface ReplayWorkerData {
  calls: RecordedCall[];
  options: SessionCreateOptions;
}

const { calls, options } = workerData as ReplayWorkerData;
const port = parentPort;
if (port === null) throw new Error('replay-worker.js runs as a worker thread');

const paths = [...new Set(calls.map((c) => c.path))];
const opened = await Promise.all(paths.map((path) => openOrtSession(path, options)));
const sessions = new Map(paths.map((path, i) => [path, opened[i].session]));
const prepared = calls.map((c) => ({
  session: sessions.get(c.path)!,
  feeds: toOrtFeeds(c.feeds),
  outputs: c.outputs === undefined ? undefined : [...c.outputs],
}));

async function pass(): Promise<number[]> {
  const callMs: number[] = [];
  for (const call of prepared) {
    const start = performance.now();
    if (call.outputs === undefined) await call.session.run(call.feeds);
    else await call.session.run(call.feeds, call.outputs);
    callMs.push(performance.now() - start);
  }
  return callMs;
}

await pass();
port.on('message', (message: 'pass' | 'close') => {
  if (message === 'close') {
    void Promise.all(opened.map((o) => o.session.release())).then(() => port.postMessage({ closed: true }));
    return;
  }
  void pass().then((callMs) => port.postMessage({ callMs }));
});
port.postMessage({ ready: true });
