import { fileURLToPath } from 'node:url';

import { build } from 'vite';
import type { Rollup } from 'vite';
import { describe, expect, it } from 'vitest';

import type { catalogFromJSON } from '@diffedit/core';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** Node-only things a browser bundle must not contain (module ids or import specifiers). */
const FORBIDDEN = [
  /^node:/,
  /__vite-browser-external/,
  /sharp/,
  /onnxruntime/,
  /protobufjs/,
  /worker_threads/,
];

/** Bundles `entry` for the browser as the editor's vite build would, returning what went in and out. */
async function bundle(entry: string): Promise<{ modules: string[]; imports: string[]; code: string }> {
  const result = await build({
    configFile: false,
    logLevel: 'silent',
    resolve: {
      // the core's TypeScript sources, as the editor sees them through the workspace
      alias: [{ find: /^@diffedit\/core$/, replacement: here('../../packages/core/src/index.ts') }],
    },
    build: {
      write: false,
      minify: false,
      target: 'es2022',
      lib: { entry, formats: ['es'], fileName: 'bundle' },
    },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
  const chunks = outputs.flatMap((o) => o.output).filter((c): c is Rollup.OutputChunk => c.type === 'chunk');
  return {
    modules: chunks.flatMap((c) => c.moduleIds),
    imports: chunks.flatMap((c) => [...c.imports, ...c.dynamicImports]),
    code: chunks.map((c) => c.code).join('\n'),
  };
}

const offenders = (b: { modules: string[]; imports: string[] }): string[] =>
  [...b.modules, ...b.imports].filter((id) => FORBIDDEN.some((re) => re.test(id)));

describe('browser bundle of the core', () => {
  it('holds validate / plan / keys / catalogFromJSON and nothing Node-only', async () => {
    const b = await bundle(here('./browser-entry/core-contract.ts'));
    expect(b.modules.some((id) => id.endsWith('graph/canvas-keys.ts'))).toBe(true);
    expect(b.modules.some((id) => id.endsWith('graph/catalog-json.ts'))).toBe(true);
    expect(offenders(b)).toEqual([]);
    expect(b.code).not.toMatch(/from ["']node:|require\(["']node:|onnxruntime|protobufjs|sharp/);
    // the bundle works: it rebuilds a catalog and validates with it
    const url = `data:text/javascript;base64,${Buffer.from(b.code).toString('base64')}`;
    const mod = (await import(url)) as { browserContract: { catalogFromJSON: typeof catalogFromJSON } };
    expect(mod.browserContract.catalogFromJSON([]).list()).toEqual([]);
  });

  it('catches a Node-only import (the check can fail)', async () => {
    const b = await bundle(here('./browser-entry/node-only.ts'));
    expect(offenders(b).length).toBeGreaterThan(0);
  });
});
