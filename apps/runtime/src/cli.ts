#!/usr/bin/env node
import { runCli } from './cli/program.js';

// Ctrl-C (or SIGTERM) cancels the run (nodes see ctx.signal) or stops the server; a second Ctrl-C exits at once.
const controller = new AbortController();
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.exit(130));
});
process.once('SIGTERM', () => controller.abort());

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  interactive: process.stderr.isTTY === true,
  signal: controller.signal,
});
