import { describe, expect, it } from 'vitest';

import type { ProgramContext } from '../../src/models/program.js';
import { runRowChunks } from '../../src/models/program-rows.js';
import type { WireFeeds } from '../../src/models/wire-tensor.js';

/** A context whose session doubles its input `x` rows into `y`, recording each call's rows. */
function doublingContext(calls: number[][]): ProgramContext {
  return {
    sessions: {},
    signal: new AbortController().signal,
    eventIntervalMs: 0,
    emit: () => {},
    throwIfCancelled: () => {},
    sharedFloat32: (length) => new Float32Array(length),
    run: async (_role, feeds, outputs) => {
      const x = feeds.x;
      calls.push([...x.dims]);
      expect(outputs).toEqual(['y']);
      const data = Float32Array.from(x.data as Float32Array, (v) => 2 * v);
      return { y: { type: 'float32', dims: x.dims, data } };
    },
    prepare: () => {
      throw new Error('runRowChunks prepares no feeds');
    },
    runPrepared: () => Promise.reject(new Error('runRowChunks runs no prepared feeds')),
  };
}

const rowsOf =
  (values: Float32Array, rowLength: number) =>
  (start: number, end: number): WireFeeds => ({
    x: {
      type: 'float32',
      dims: [end - start, rowLength],
      data: values.subarray(start * rowLength, end * rowLength),
    },
  });

describe('runRowChunks', () => {
  const values = Float32Array.from({ length: 5 * 3 }, (_, i) => i + 0.5);
  const doubled = Array.from(values, (v) => 2 * v);

  it('makes one call of every row when the batch fits (no max, or a max of at least the batch)', async () => {
    for (const maxBatch of [undefined, 0, 5, 16]) {
      const calls: number[][] = [];
      const out = await runRowChunks(doublingContext(calls), 'm', 'y', 5, maxBatch, rowsOf(values, 3));
      expect(calls).toEqual([[5, 3]]);
      expect(out.dims).toEqual([5, 3]);
      expect(Array.from(out.data)).toEqual(doubled);
    }
  });

  it('splits a larger batch into calls of at most maxBatch rows and stacks their outputs in order', async () => {
    const calls: number[][] = [];
    const out = await runRowChunks(doublingContext(calls), 'm', 'y', 5, 2, rowsOf(values, 3));
    expect(calls).toEqual([
      [2, 3],
      [2, 3],
      [1, 3],
    ]);
    expect(out.dims).toEqual([5, 3]);
    expect(Array.from(out.data)).toEqual(doubled);
  });

  it('checks cancellation before the call', async () => {
    const calls: number[][] = [];
    const ctx: ProgramContext = {
      ...doublingContext(calls),
      throwIfCancelled: () => {
        throw new Error('cancelled');
      },
    };
    await expect(runRowChunks(ctx, 'm', 'y', 5, undefined, rowsOf(values, 3))).rejects.toThrow('cancelled');
    expect(calls).toEqual([]);
  });
});
