import { alphasCumprodFromConfig } from '@diffedit/core';
import { GraphBuilder } from './onnx-builder/index.js';
import { TOY_SCHEDULER_CONFIG } from './configs.js';
import { TEXT_EMBEDDING } from './toy-text-encoder.js';

/** Noise level at which the denoiser trusts its prior as much as the pixel. */
export const PRIOR_SIGMA = 0.3;
/** Guidance (7.5) × 0.15 ≈ 1: the guided estimate lands on the concept colour instead of oscillating. */
export const TEXT_PULL = 0.15;
/** Wide blur (decides whether there is an object) and narrow blur (decides where its edge is). */
export const WIDE_BLUR = { radius: 3, sigma: 2.0, noiseFactor: 3.0 } as const;
export const NARROW_BLUR = { radius: 1, sigma: 0.8, noiseFactor: 1.0 } as const;
/** Detector threshold floor and sigmoid temperature. */
const MIN_THRESHOLD = 0.4;
const SIGMOID_WIDTH = 0.1;

/** The normalised 1-D Gaussian kernel and f = sqrt(Σk²), the factor by which it shrinks white noise. */
export function gaussianKernel(radius: number, sigma: number): { kernel: Float64Array; noiseGain: number } {
  const kernel = new Float64Array(2 * radius + 1);
  for (let i = -radius; i <= radius; i++) kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  const sum = kernel.reduce((a, b) => a + b, 0);
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return { kernel, noiseGain: Math.sqrt(kernel.reduce((a, k) => a + k * k, 0)) };
}

/** Per-timestep constants, computed in float64 and baked in as one [1000, 6] Gather table. */
const TIMESTEP_COLUMNS = [
  'sqrt_a',
  'inv_sqrt_a',
  'inv_sqrt_1ma',
  'prior_weight',
  'wide_threshold',
  'narrow_threshold',
];

export function toyTimestepTable(): Float32Array {
  const alphas = alphasCumprodFromConfig(TOY_SCHEDULER_CONFIG);
  const fWide = gaussianKernel(WIDE_BLUR.radius, WIDE_BLUR.sigma).noiseGain;
  const fNarrow = gaussianKernel(NARROW_BLUR.radius, NARROW_BLUR.sigma).noiseGain;
  const out = new Float32Array(alphas.length * TIMESTEP_COLUMNS.length);
  alphas.forEach((a, t) => {
    const sigma = Math.sqrt(1 - a) / Math.sqrt(a);
    out.set(
      [
        Math.sqrt(a),
        1 / Math.sqrt(a),
        1 / Math.sqrt(1 - a),
        (sigma * sigma) / (sigma * sigma + PRIOR_SIGMA * PRIOR_SIGMA),
        Math.max(MIN_THRESHOLD, WIDE_BLUR.noiseFactor * sigma * fWide),
        Math.max(MIN_THRESHOLD, NARROW_BLUR.noiseFactor * sigma * fNarrow),
      ],
      t * TIMESTEP_COLUMNS.length,
    );
  });
  return out;
}

const INT64_MAX = 9223372036854775807n;

/**
 * The toy UNet (epsilon prediction), the formula of toy-world.md:
 * y = x_t/√ā; an object detector on blurred y against the border-ring background; a generic denoiser that pulls
 * towards the background or the object's own colour; the prompt's concept pulls object pixels towards its colour.
 * I/O as optimum's SD export: `sample` [B,4,h,w], `timestep` int64 [B], `encoder_hidden_states` [B,77,10]
 * → `out_sample` [B,4,h,w].
 */
export function buildToyUnet(): GraphBuilder {
  const g = new GraphBuilder('toy_unet');
  const sample = g.input('sample', 'float32', ['batch_size', 4, 'height', 'width']);
  const timestep = g.input('timestep', 'int64', ['batch_size']);
  const text = g.input('encoder_hidden_states', 'float32', [
    'batch_size',
    'sequence_length',
    TEXT_EMBEDDING.size,
  ]);

  const slice = (x: string, start: number, end: number | bigint, axis: number, name?: string): string =>
    g.op(
      'Slice',
      [x, g.int64s([start]), g.int64s([end]), g.int64s([axis])],
      {},
      name ? { outputName: name } : {},
    );
  const mul = (a: string, b: string): string => g.op('Mul', [a, b]);
  const add = (a: string, b: string): string => g.op('Add', [a, b]);
  const sub = (a: string, b: string): string => g.op('Sub', [a, b]);
  const one = g.scalar(1, 'one');

  // Per-timestep constants → [B,1,1,1] each.
  const table = g.constant(toyTimestepTable(), [1000, TIMESTEP_COLUMNS.length], 'timestep_table');
  const perSample = g.op('Reshape', [
    g.op('Gather', [table, timestep], { axis: 0 }),
    g.int64s([-1, TIMESTEP_COLUMNS.length, 1, 1], 'per_sample_shape'),
  ]);
  const [sqrtA, invSqrtA, invSqrt1mA, w, wideThreshold, narrowThreshold] = TIMESTEP_COLUMNS.map((name, i) =>
    slice(perSample, i, i + 1, 1, name),
  );
  const keepPixel = sub(one, w);

  const colour = slice(sample, 0, 3, 1, 'sample_rgb');
  const y = g.op('Mul', [colour, invSqrtA], {}, { outputName: 'clean_estimate' });

  const blur = (x: string, spec: { radius: number; sigma: number }, name: string): string => {
    const r = spec.radius;
    const k = Float32Array.from(gaussianKernel(r, spec.sigma).kernel);
    const kernel3 = new Float32Array(3 * k.length);
    for (let c = 0; c < 3; c++) kernel3.set(k, c * k.length);
    const padded = g.op('Pad', [x, g.int64s([0, 0, r, r, 0, 0, r, r])], { mode: 'edge' });
    const vertical = g.op('Conv', [padded, g.constant(kernel3, [3, 1, k.length, 1], `${name}_kernel_v`)], {
      group: 3,
    });
    return g.op(
      'Conv',
      [vertical, g.constant(kernel3, [3, 1, 1, k.length], `${name}_kernel_h`)],
      { group: 3 },
      {
        outputName: name,
      },
    );
  };
  const wide = blur(y, WIDE_BLUR, 'wide_blur');
  const narrow = blur(y, NARROW_BLUR, 'narrow_blur');

  // Background = mean of the wide blur's border ring (top, bottom, left, right; corners counted twice).
  const spatial = g.int64s([2, 3], 'spatial_axes');
  const ringSum = [
    slice(wide, 0, 1, 2),
    slice(wide, -1, INT64_MAX, 2),
    slice(wide, 0, 1, 3),
    slice(wide, -1, INT64_MAX, 3),
  ]
    .map((edge) => g.op('ReduceSum', [edge, spatial], { keepdims: 1 }))
    .reduce((a, b) => add(a, b));
  const hw = g.op('Cast', [g.op('Shape', [wide], { start: 2 })], { to: 1 });
  const ringCount = mul(g.op('ReduceSum', [hw], { keepdims: 0 }), g.scalar(2, 'two'));
  const bg = g.op('Div', [ringSum, ringCount], {}, { outputName: 'background' });

  const channelAxis = g.int64s([1], 'channel_axis');
  const detector = (x: string, threshold: string): string => {
    const diff = sub(x, bg);
    const distance = g.op('Sqrt', [g.op('ReduceSum', [mul(diff, diff), channelAxis], { keepdims: 1 })]);
    return g.op('Sigmoid', [
      g.op('Div', [sub(distance, threshold), g.scalar(SIGMOID_WIDTH, 'sigmoid_width')]),
    ]);
  };
  const obj = g.op(
    'Mul',
    [detector(wide, wideThreshold), detector(narrow, narrowThreshold)],
    {},
    {
      outputName: 'object_probability',
    },
  );

  // Generic denoiser: the pixel, or (as noise grows) the background / the object's narrow-blurred colour.
  const prior = add(mul(bg, sub(one, obj)), mul(obj, narrow));
  const denoised = add(mul(keepPixel, y), mul(w, prior));

  // Concept from the text: colour words win over nouns' canonical colours; gate = min(1, #content words).
  const E = TEXT_EMBEDDING;
  const summed = g.op('ReduceSum', [text, g.int64s([1], 'sequence_axis')], { keepdims: 0 });
  const col = (start: number, end: number): string => slice(summed, start, end, 1);
  const colourWords = col(E.colourWordFlag, E.colourWordFlag + 1);
  const nouns = col(E.nounFlag, E.nounFlag + 1);
  const eps = g.scalar(1e-6, 'eps');
  const colourWordMean = g.op('Div', [
    col(E.colourWordRgb, E.colourWordRgb + 3),
    g.op('Max', [colourWords, eps]),
  ]);
  const nounMean = g.op('Div', [col(E.nounRgb, E.nounRgb + 3), g.op('Max', [nouns, eps])]);
  const zero = g.scalar(0, 'zero');
  const colourWordShare = g.op('Clip', [colourWords, zero, one]);
  const concept = add(mul(colourWordShare, colourWordMean), mul(sub(one, colourWordShare), nounMean));
  const gate = g.op('Clip', [add(colourWords, nouns), zero, one]);
  const toImage = (x: string, channels: number, name: string): string =>
    g.op('Reshape', [x, g.int64s([-1, channels, 1, 1])], {}, { outputName: name });
  const conceptImage = toImage(concept, 3, 'concept');
  const gateImage = toImage(gate, 1, 'concept_gate');

  const pullWeight = mul(mul(mul(g.scalar(TEXT_PULL, 'text_pull'), w), obj), gateImage);
  const x0Colour = add(denoised, mul(pullWeight, sub(conceptImage, denoised)));
  const x0Fourth = mul(keepPixel, mul(slice(sample, 3, 4, 1), invSqrtA));
  const x0 = g.op('Concat', [x0Colour, x0Fourth], { axis: 1 }, { outputName: 'x0_estimate' });
  const eps0 = mul(sub(sample, mul(sqrtA, x0)), invSqrt1mA);
  g.output(eps0, 'out_sample', 'float32', ['batch_size', 4, 'height', 'width']);
  return g;
}
