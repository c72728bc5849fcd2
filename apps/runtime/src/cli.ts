#!/usr/bin/env node
import { closeModelWorkers } from '@diffedit/nodes';

import { EXIT, internalErrorMessage, runCli } from './cli/program.js';

// An exception nobody caught is a bug: say so and exit 70, never 1 (which means "a node failed").
const crash = (error: unknown): void => {
  process.stderr.write(`${internalErrorMessage(error)}\n`);
  process.exit(EXIT.internal);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

// Ctrl-C or SIGTERM cancels the run (nodes see ctx.signal; the report is still written); a second one exits
// as soon as the model call in flight (if any) has returned: exiting during one makes onnxruntime abort.
const controller = new AbortController();
const onSignal = (): void => {
  if (controller.signal.aborted) {
    void closeModelWorkers().finally(() => process.exit(EXIT.cancelled));
    return;
  }
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  interactive: process.stderr.isTTY === true,
  signal: controller.signal,
});
// The command is done: if a library still holds the event loop (a Redis client retrying a server that is gone
// after `serve --queue` or `worker` stopped), exit anyway once output has had time to drain.
setTimeout(() => process.exit(), 2000).unref();
