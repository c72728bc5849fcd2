import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// Tests import the packages' TypeScript sources directly; `npm test` builds first so that
// worker threads (which Node loads as plain JavaScript) find their compiled files in dist/.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@diffedit\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@diffedit\/nodes$/, replacement: src('./packages/nodes/src/index.ts') },
      { find: /^@diffedit\/toy-models$/, replacement: src('./packages/toy-models/src/index.ts') },
      { find: /^@diffedit\/runtime$/, replacement: src('./apps/runtime/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
