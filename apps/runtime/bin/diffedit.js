#!/usr/bin/env node
// The committed `diffedit` bin. npm links a workspace's bin when it installs, before anything is built, so the
// bin cannot point into dist/: this shim loads the built CLI, or says how to build it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(
    `diffedit: the CLI is not built yet (${fileURLToPath(cli)} is missing): run npm run build first\n`,
  );
  process.exit(2);
}
await import(cli.href);
