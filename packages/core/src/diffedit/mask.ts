import { IntTensor } from '../tensor/int-tensor.js';
import { Tensor, sameDims } from '../tensor/tensor.js';
import { batchRange } from '../tensor/views.js';
import { guide } from './guidance.js';
import type { FloatTensorLike } from './regularisation.js';

/**
 * Which prompt embedding goes into each quarter of generate_mask's UNet batch.
 * - 'diffusers' (faithful, default): diffusers unpacks encode_prompt's (positive, negative) as (negative,
 *   positive) since PR #4617, so the batch is [source, sourceNegative, target, targetNegative] and the first
 *   of each pair is treated as "unconditional" (spec §5, pitfall P7).
 * - 'intended': [sourceNegative, source, targetNegative, target], the textbook CFG order.
 * With identical negatives for source and target (the default, "") both give the same mask.
 */
export type MaskEmbeddingOrder = 'diffusers' | 'intended';
export type MaskPromptSlot = 'source' | 'sourceNegative' | 'target' | 'targetNegative';

/**
 * The embedding for each group of B·n rows of generate_mask's UNet batch, in batch order. With CFG (g > 1)
 * four groups, without CFG two ([source, target]; diffusers itself crashes there, pitfall P7).
 */
export function maskUnetBatchLayout(order: MaskEmbeddingOrder, guidanceScale: number): MaskPromptSlot[] {
  if (!(guidanceScale > 1)) return ['source', 'target'];
  return order === 'diffusers'
    ? ['source', 'sourceNegative', 'target', 'targetNegative']
    : ['sourceNegative', 'source', 'targetNegative', 'target'];
}

/**
 * The guided source and target estimates from generate_mask's UNet output (one call, batch laid out by
 * maskUnetBatchLayout): with CFG, S = o1 + g(o2 − o1) and Tg = o3 + g(o4 − o3); without, the two halves.
 * Raw model outputs are used as they are (ε or v; the constant factor cancels in the relative threshold).
 */
export function maskGuidedEstimates(
  output: Tensor,
  guidanceScale: number,
): { source: Tensor; target: Tensor } {
  const rows = output.rank === 0 ? 0 : output.dims[0];
  const groups = guidanceScale > 1 ? 4 : 2;
  if (rows === 0 || rows % groups !== 0) {
    throw new RangeError(
      `generate_mask: UNet output ${output} must have a batch divisible by ${groups} (g = ${guidanceScale})`,
    );
  }
  const q = rows / groups;
  const part = (i: number): Tensor => batchRange(output, i * q, (i + 1) * q);
  if (groups === 2) return { source: part(0), target: part(1) };
  return { source: guide(part(0), part(1), guidanceScale), target: guide(part(2), part(3), guidanceScale) };
}

export interface DiffEditMaskOptions {
  /** B: number of images/prompts; the estimates hold B·n rows (each image's n maps consecutive). */
  batchSize: number;
  /** n: noise maps per mask (diffusers num_maps_per_mask, default 10). */
  numMapsPerMask: number;
  /** Clamp at this multiple of the mean difference (diffusers mask_thresholding_ratio, default 3). */
  maskThresholdingRatio?: number;
}

export interface DiffEditMask {
  /** The mean |target − source| per latent pixel, (B, h, w). */
  map: Tensor;
  /** The same map in float64 (the reduction runs in float64). */
  mapValues: Float64Array;
  /**
   * M = mean(map over the whole batch) · ratio: the clamp level (one scalar for the batch, pitfall P8). When it
   * is 0 (identical source and target estimates, e.g. the same prompt) the mask is all ones, as in diffusers
   * (0/0 is NaN and NaN ≤ 0.5 is false); callers may want to report that.
   */
  clampLevel: number;
  /** The binary mask (B, h, w): 1 = repaint, 0 = keep; float32 0/1 ready for blending. */
  mask: Tensor;
}

/** The reduction's argument checks (shapes of the two estimates and the options); errors say generate_mask. */
function checkMaskOptions(
  sourceDims: readonly number[],
  targetDims: readonly number[],
  options: DiffEditMaskOptions,
): void {
  const where = 'generate_mask';
  const { batchSize: B, numMapsPerMask: n } = options;
  const ratio = options.maskThresholdingRatio ?? 3;
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`${where}: num_maps_per_mask must be a positive integer, got ${n}`);
  if (!Number.isInteger(B) || B < 1)
    throw new RangeError(`${where}: batch size must be a positive integer, got ${B}`);
  if (!(ratio > 0)) throw new RangeError(`${where}: mask_thresholding_ratio must be > 0, got ${ratio}`);
  if (sourceDims.length !== 4 || !sameDims(sourceDims, targetDims)) {
    throw new RangeError(
      `${where}: source [${sourceDims.join(', ')}] and target [${targetDims.join(', ')}] must be equal (B·n, C, h, w)`,
    );
  }
  const rows = sourceDims[0];
  if (rows !== B * n) throw new RangeError(`${where}: estimates have ${rows} rows, expected B·n = ${B}·${n}`);
}

/**
 * generate_mask's reduction: D = |Tg − S| as (B, n, C, h, w), averaged over n and C, clamped to [0, M] with
 * M = ratio · mean(all of it), divided by M and thresholded: m ≤ 0.5 → 0, else 1 (i.e. map > M/2).
 */
export function diffEditMaskFromEstimates(
  source: FloatTensorLike,
  target: FloatTensorLike,
  options: DiffEditMaskOptions,
): DiffEditMask {
  checkMaskOptions(source.dims, target.dims, options);
  const { batchSize: B, numMapsPerMask: n } = options;
  const ratio = options.maskThresholdingRatio ?? 3;
  const [, C, h, w] = source.dims;
  const plane = h * w;
  const acc = new Float64Array(B * plane);
  const s = source.data;
  const t = target.data;
  for (let b = 0; b < B; b++) {
    const dst = b * plane;
    for (let k = 0; k < n * C; k++) {
      const src = (b * n * C + k) * plane;
      for (let p = 0; p < plane; p++) acc[dst + p] += Math.abs(t[src + p] - s[src + p]);
    }
  }
  return thresholdMap(acc, B, n * C, h, w, ratio);
}

/** The mean over `terms` summed differences per pixel, clamped at ratio · their mean and thresholded. */
function thresholdMap(
  acc: Float64Array,
  B: number,
  terms: number,
  h: number,
  w: number,
  ratio: number,
): DiffEditMask {
  let total = 0;
  for (let i = 0; i < acc.length; i++) {
    acc[i] /= terms;
    total += acc[i];
  }
  const clampLevel = (total / acc.length) * ratio;
  const map = new Tensor([B, h, w]);
  const mask = new Tensor([B, h, w]);
  for (let i = 0; i < acc.length; i++) {
    map.data[i] = acc[i];
    const m = Math.min(Math.max(acc[i], 0), clampLevel) / clampLevel;
    mask.data[i] = m <= 0.5 ? 0 : 1;
  }
  return { map, mapValues: acc, clampLevel, mask };
}

/**
 * The full generate_mask tail: guided estimates from the UNet output, then the reduction. With CFG the
 * estimates are not materialised: each S and Tg value is rounded to float32 where guide() would store it and
 * reduced at once (the same numbers, without two output-sized tensors; diffEditMaskFromUnetRowBlocks).
 */
export function diffEditMaskFromUnetOutput(
  output: Tensor,
  guidanceScale: number,
  options: DiffEditMaskOptions,
): DiffEditMask {
  if (!(guidanceScale > 1)) {
    const { source, target } = maskGuidedEstimates(output, guidanceScale);
    return diffEditMaskFromEstimates(source, target, options);
  }
  if (!Number.isFinite(guidanceScale))
    throw new RangeError(`guidance scale must be finite, got ${guidanceScale}`);
  const rows = output.rank === 0 ? 0 : output.dims[0];
  if (rows === 0 || rows % 4 !== 0) {
    throw new RangeError(
      `generate_mask: UNet output ${output} must have a batch divisible by 4 (g = ${guidanceScale})`,
    );
  }
  // the output as one row block: one reduction serves both
  return diffEditMaskFromUnetRowBlocks([output], guidanceScale, options);
}

/**
 * diffEditMaskFromUnetOutput (with CFG, g > 1) on an output that comes in consecutive row blocks (one per UNet
 * call) instead of one tensor: the same numbers, without stacking the blocks into one output-sized copy.
 */
export function diffEditMaskFromUnetRowBlocks(
  blocks: readonly Tensor[],
  guidanceScale: number,
  options: DiffEditMaskOptions,
): DiffEditMask {
  if (blocks.length === 0) throw new RangeError('generate_mask: no UNet output');
  const tail = blocks[0].dims.slice(1);
  let rows = 0;
  for (const b of blocks) {
    if (b.rank !== tail.length + 1 || !sameDims(b.dims.slice(1), tail)) {
      throw new RangeError(`generate_mask: UNet output blocks ${b} and ${blocks[0]} do not match`);
    }
    rows += b.dims[0];
  }
  if (!(guidanceScale > 1)) {
    let whole = blocks[0];
    if (blocks.length > 1) {
      whole = new Tensor([rows, ...tail]);
      let offset = 0;
      for (const b of blocks) {
        whole.data.set(b.data, offset);
        offset += b.size;
      }
    }
    return diffEditMaskFromUnetOutput(whole, guidanceScale, options);
  }
  if (!Number.isFinite(guidanceScale))
    throw new RangeError(`guidance scale must be finite, got ${guidanceScale}`);
  if (rows % 4 !== 0) {
    throw new RangeError(
      `generate_mask: UNet output [${[rows, ...tail].join(', ')}] must have a batch divisible by 4 (g = ${guidanceScale})`,
    );
  }
  const q = rows / 4;
  const estimateDims = [q, ...tail];
  checkMaskOptions(estimateDims, estimateDims, options);
  const { batchSize: B, numMapsPerMask: n } = options;
  const [, C, h, w] = estimateDims;
  const plane = h * w;
  const rowSize = C * plane;
  // row r of the whole output: its block and the row's start in that block's data
  const rowBlock: Float32Array[] = [];
  const rowStart: number[] = [];
  for (const b of blocks) {
    for (let r = 0; r < b.dims[0]; r++) {
      rowBlock.push(b.data);
      rowStart.push(r * rowSize);
    }
  }
  const g = guidanceScale;
  const fround = Math.fround;
  const acc = new Float64Array(B * plane);
  for (let b = 0; b < B; b++) {
    const dst = b * plane;
    for (let j = 0; j < n; j++) {
      // the four groups' row for map j of image b: o1 (rows of group 0), o2, o3, o4
      const r = b * n + j;
      const [d1, d2, d3, d4] = [rowBlock[r], rowBlock[q + r], rowBlock[2 * q + r], rowBlock[3 * q + r]];
      for (let c = 0; c < C; c++) {
        const s1 = rowStart[r] + c * plane;
        const s2 = rowStart[q + r] + c * plane;
        const s3 = rowStart[2 * q + r] + c * plane;
        const s4 = rowStart[3 * q + r] + c * plane;
        for (let p = 0; p < plane; p++) {
          const u1 = d1[s1 + p];
          const u2 = d3[s3 + p];
          const sv = fround(u1 + g * (d2[s2 + p] - u1));
          const tv = fround(u2 + g * (d4[s4 + p] - u2));
          acc[dst + p] += Math.abs(tv - sv);
        }
      }
    }
  }
  return thresholdMap(acc, B, n * C, h, w, options.maskThresholdingRatio ?? 3);
}

/** A 0/1 float mask as diffusers' int64 array (what generate_mask returns with output_type "np"). */
export function maskToInt64(mask: Tensor): IntTensor {
  const out = IntTensor.zeros(mask.dims, 'int64');
  const d = out.data as BigInt64Array;
  for (let i = 0; i < d.length; i++) d[i] = mask.data[i] >= 0.5 ? 1n : 0n;
  return out;
}
