#!/usr/bin/env node
import { runCli } from './cli/program.js';

// Ctrl-C cancels the run (nodes see ctx.signal); a second Ctrl-C exits at once.
const controller = new AbortController();
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.exit(130));
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  interactive: process.stderr.isTTY === true,
  signal: controller.signal,
});
