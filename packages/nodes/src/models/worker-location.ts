import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The compiled worker entry. Worker threads load plain JavaScript, so even when this module runs from the
 * TypeScript sources (vitest) the worker comes from the package's dist/ (built by `npx tsc -b`, which
 * `npm test` runs first). Both src/models/ and dist/models/ sit two levels below the package root.
 */
export function defaultWorkerPath(): string {
  return fileURLToPath(new URL('../../dist/models/inference-worker.js', import.meta.url));
}

export function workerFileExists(path: string): boolean {
  return existsSync(path);
}
