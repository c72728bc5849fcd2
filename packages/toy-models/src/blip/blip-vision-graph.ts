import { GraphBuilder } from '../onnx-builder/index.js';
import { GraphOps } from '../t5/graph-ops.js';
import { BLIP_IMAGE_MEAN, BLIP_IMAGE_STD, SUMMARY_CHANNELS, TOY_BLIP_DIMS } from './blip-dims.js';

const { imageSize, patchSize, hiddenSize } = TOY_BLIP_DIMS;
const GRID = imageSize / patchSize;

/** Ring patches that differ from the first background estimate by more than this are not background. */
const RING_OUTLIER_DISTANCE = 0.5;
/** Patches at ≥ this fraction of the largest colour distance from the background are the object's interior. */
const OBJECT_DISTANCE_FRACTION = 0.93;

function ringMask(): Float32Array {
  const ring = new Float32Array(GRID * GRID);
  for (let y = 0; y < GRID; y++) {
    for (let x = 0; x < GRID; x++) {
      if (y === 0 || x === 0 || y === GRID - 1 || x === GRID - 1) ring[y * GRID + x] = 1;
    }
  }
  return ring;
}

/**
 * vision_model.onnx: pixel_values [batch, 3, 384, 384] (CLIP-normalised) → last_hidden_state [batch, 577, D] and
 * pooler_output [batch, D]. Row 0 (the class token) summarises the scene: the object's mean colour, the
 * background's (the border ring of 16×16 patches), the object's fill of its bounding box (1 for a square, π/4
 * for a circle, 1/2 for a triangle), the box's height/width and the object's contrast; rows 1…576 hold each patch's mean colour and its distance to the background.
 * Colours are RGB in [-1, 1].
 */
export function buildToyBlipVision(): GraphBuilder {
  const g = new GraphBuilder('toy_blip_vision');
  const o = new GraphOps(g);
  const pixels = g.input('pixel_values', 'float32', ['batch_size', 3, imageSize, imageSize]);

  // Undo CLIP normalisation, then map [0, 1] to [-1, 1].
  const scale = o.floatsConst(
    BLIP_IMAGE_STD.map((s) => 2 * s),
    [1, 3, 1, 1],
    'unnormalise_scale',
  );
  const shift = o.floatsConst(
    BLIP_IMAGE_MEAN.map((m) => 2 * m - 1),
    [1, 3, 1, 1],
    'unnormalise_shift',
  );
  const rgb = o.add(o.mul(pixels, scale), shift);
  const patches = g.op('AveragePool', [rgb], {
    kernel_shape: [patchSize, patchSize],
    strides: [patchSize, patchSize],
  }); // [B, 3, 24, 24]

  const norm = (x: string): string => g.op('Sqrt', [o.reduceSum(o.mul(x, x), [1], true)]);
  const weightedMean = (values: string, weights: string): string =>
    o.div(
      o.reduceSum(o.mul(values, weights), [2, 3], true),
      o.add(o.reduceSum(weights, [2, 3], true), o.f(1e-6)),
    );

  // Background: the ring's mean, then again without ring patches that the object reaches into.
  const ring = g.constant(ringMask(), [1, 1, GRID, GRID], 'border_ring');
  const firstGuess = weightedMean(patches, ring);
  const ringDistance = norm(o.sub(patches, firstGuess));
  const ringWeight = o.mul(
    ring,
    g.op('Sigmoid', [o.div(o.sub(o.f(RING_OUTLIER_DISTANCE), ringDistance), o.f(0.1))]),
  );
  const background = weightedMean(patches, ringWeight); // [B, 3, 1, 1]

  // Object: the patches farthest from the background (relative, so that any contrast works).
  const distance = norm(o.sub(patches, background)); // [B, 1, 24, 24]
  const contrast = g.op('ReduceMax', [distance], { axes: [2, 3], keepdims: 1 });
  const relative = o.div(distance, o.add(contrast, o.f(1e-3)));
  const interior = g.op('Sigmoid', [o.div(o.sub(relative, o.f(OBJECT_DISTANCE_FRACTION)), o.f(0.015))]);
  const object = weightedMean(patches, interior); // [B, 3, 1, 1]

  // Shape: the fraction of the bounding box the object fills, from per-pixel object coverage.
  const axis = o.sub(object, background);
  const coverage = g.op('Clip', [
    o.div(
      o.reduceSum(o.mul(o.sub(rgb, background), axis), [1], true),
      o.add(o.reduceSum(o.mul(axis, axis), [1], true), o.f(1e-6)),
    ),
    o.f(0),
    o.f(1),
  ]); // [B, 1, H, W]
  const area = o.reduceSum(coverage, [2, 3], true);
  const width = o.reduceSum(g.op('ReduceMax', [coverage], { axes: [2], keepdims: 1 }), [3], true);
  const height = o.reduceSum(g.op('ReduceMax', [coverage], { axes: [3], keepdims: 1 }), [2], true);
  const fill = o.div(area, o.add(o.mul(width, height), o.f(1e-6))); // [B, 1, 1, 1]
  const aspect = o.div(height, o.add(width, o.f(1e-6)));

  const flat = (x: string, channels: number): string => o.g.op('Reshape', [x, o.ints([0, channels])]);
  const summary = o.concat(
    [flat(object, 3), flat(background, 3), flat(fill, 1), flat(aspect, 1), flat(contrast, 1)],
    1,
  ); // [B, SUMMARY_CHANNELS], in the order of SUMMARY_CHANNEL
  const summaryRow = g.op('Pad', [summary, o.ints([0, 0, 0, hiddenSize - SUMMARY_CHANNELS])]); // [B, D]

  const patchFeatures = o.concat([patches, distance], 1); // [B, 4, 24, 24]
  const patchRows = g.op('Transpose', [g.op('Reshape', [patchFeatures, o.ints([0, 4, GRID * GRID])])], {
    perm: [0, 2, 1],
  }); // [B, 576, 4]
  const paddedRows = g.op('Pad', [patchRows, o.ints([0, 0, 0, 0, 0, hiddenSize - 4])]);
  const hidden = o.concat([o.unsqueeze(summaryRow, [1]), paddedRows], 1);

  g.output(hidden, 'last_hidden_state', 'float32', ['batch_size', TOY_BLIP_DIMS.visionTokens, hiddenSize]);
  g.output(g.op('Identity', [summaryRow]), 'pooler_output', 'float32', ['batch_size', hiddenSize]);
  return g;
}
