import { Tensor } from '@diffedit/core';

/**
 * Rows one session call takes out of `batch`: at most `maxBatch`, rounded down but at least 1 (a bound in (0, 1)
 * would otherwise give calls of no rows, and batchChunks would never end); none, ≤ 0 or NaN: all of them.
 */
export function rowsPerCall(batch: number, maxBatch: number | undefined): number {
  if (maxBatch === undefined || !(maxBatch > 0)) return Math.max(batch, 1);
  return Math.max(1, Math.floor(maxBatch));
}

/** Row ranges [start, end) of at most `maxBatch` rows (a bound on peak memory per session call). */
export function batchChunks(batch: number, maxBatch: number | undefined): [number, number][] {
  const step = rowsPerCall(batch, maxBatch);
  const chunks: [number, number][] = [];
  for (let start = 0; start < batch; start += step) chunks.push([start, Math.min(batch, start + step)]);
  return chunks;
}

export function rowSize(dims: readonly number[]): number {
  let n = 1;
  for (let i = 1; i < dims.length; i++) n *= dims[i];
  return n;
}

/** Rows [start, end) along axis 0 as a view (no copy). */
export function sliceRows(t: Tensor, start: number, end: number): Tensor {
  const row = rowSize(t.dims);
  return new Tensor([end - start, ...t.dims.slice(1)], t.data.subarray(start * row, end * row));
}

export function concatRows(parts: readonly Tensor[]): Tensor {
  if (parts.length === 1) return parts[0];
  const tail = parts[0].dims.slice(1);
  let rows = 0;
  for (const p of parts) rows += p.dims[0];
  const out = new Float32Array(rows * rowSize(parts[0].dims));
  let offset = 0;
  for (const p of parts) {
    out.set(p.data, offset);
    offset += p.data.length;
  }
  return new Tensor([rows, ...tail], out);
}
