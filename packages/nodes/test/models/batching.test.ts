import { describe, expect, it } from 'vitest';

import { batchChunks, rowsPerCall } from '../../src/models/batching.js';

describe('batchChunks', () => {
  it('splits a batch into calls of at most maxBatch rows', () => {
    expect(batchChunks(10, 4)).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
    expect(batchChunks(10, 4.9)).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
  });

  it('takes every row in one call without a positive bound', () => {
    for (const bound of [undefined, 0, -3, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(batchChunks(10, bound)).toEqual([[0, 10]]);
    }
  });

  it('takes one row a call for a bound below one, where it used to loop forever', () => {
    expect(rowsPerCall(3, 0.5)).toBe(1);
    expect(batchChunks(3, 0.5)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });
});
