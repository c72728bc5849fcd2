import { resolve } from 'node:path';

import { InputsFolderKey } from '@diffedit/core';
import type { NodeContext } from '@diffedit/core';

/** Resolves a file param with the runtime's inputs folder, or against the working directory without one. */
export function resolveInputFile(ctx: NodeContext, name: string): string {
  const folder = ctx.services.tryGet(InputsFolderKey);
  return folder ? folder.resolve(name) : resolve(name);
}
