// DiffusionModel.runChunked's twin inside a program: a batch split into calls of at most `maxBatch` rows,
// cancellation checked before each call, the outputs stacked as float32.
import type { Tensor } from '@diffedit/core';

import { batchChunks, concatRows } from './batching.js';
import type { ProgramContext } from './program.js';
import { wireToTensor } from './wire-tensor.js';
import type { WireFeeds } from './wire-tensor.js';

/** Runs the session in `role` on rows [start, end) of a `batch`-row input at a time; `outName` stacked. */
export async function runRowChunks(
  ctx: ProgramContext,
  role: string,
  outName: string,
  batch: number,
  maxBatch: number | undefined,
  feeds: (start: number, end: number) => WireFeeds,
): Promise<Tensor> {
  const parts: Tensor[] = [];
  for (const [start, end] of batchChunks(batch, maxBatch)) {
    ctx.throwIfCancelled();
    const out = await ctx.run(role, feeds(start, end), [outName]);
    parts.push(wireToTensor(out[outName]));
  }
  return concatRows(parts);
}
