import { GraphBuilder } from '@diffedit/toy-models';

/**
 * A UNet whose noise prediction is known in closed form, with the toy UNet's I/O (sample [B,4,h,w],
 * timestep int64 [B], encoder_hidden_states [B,L,D] → out_sample):
 *   ε(x, t, E) = A·x + B·tanh(x) + (t / 1000)·K[c] + e·(1 + C·x) + D·e²·x + S·mean(x),
 *   e = Σ_l Σ_d E[l,d]·cos(d + 1)   (a plain mean of E would vanish for the toy encoder)
 * Non-linear in x, time- and prompt-dependent, so every part of the DiffEdit loops (CFG, the schedules, the
 * blend, the mask's prompt difference) shows in the result. mean(x) (over one latent's channels and pixels)
 * couples the pixels as a real UNet does: without it the kept region could never reach the repainted one, and
 * which stored latent the blend uses before the last step would not show.
 */
export interface AnalyticConstants {
  A: number;
  B: number;
  C: number;
  /** the e² term makes ε non-linear in the prompt, so the order of GenerateMask's batch matters (P7) */
  D: number;
  K: readonly [number, number, number, number];
  /** weight of the latent's mean (spatial coupling) */
  S: number;
}

export const ANALYTIC: AnalyticConstants = {
  A: 0.5,
  B: 0.3,
  C: 0.5,
  D: 0,
  K: [0.3, -0.2, 0.1, -0.1],
  S: 0.2,
};

export function buildAnalyticUnet(
  sequenceLength: number,
  embeddingWidth: number,
  k: AnalyticConstants = ANALYTIC,
): Uint8Array {
  const g = new GraphBuilder('analytic_unet');
  const sample = g.input('sample', 'float32', ['batch', 4, 'height', 'width']);
  const timestep = g.input('timestep', 'int64', ['batch']);
  const text = g.input('encoder_hidden_states', 'float32', ['batch', 'sequence', 'width']);
  const linear = g.op('Mul', [sample, g.scalar(k.A, 'a')]);
  const bent = g.op('Mul', [g.op('Tanh', [sample]), g.scalar(k.B, 'b')]);
  const t = g.op('Div', [g.op('Cast', [timestep], { to: 1 }), g.scalar(1000, 'thousand')]);
  const t4 = g.op('Reshape', [t, g.int64s([-1, 1, 1, 1], 'col')]);
  const channel = g.constant(Float32Array.from(k.K), [1, 4, 1, 1], 'k');
  const timeTerm = g.op('Mul', [t4, channel]);
  const weights = g.constant(textWeights(sequenceLength, embeddingWidth), [embeddingWidth, 1], 'w');
  const textMean = g.op('ReduceMean', [g.op('MatMul', [text, weights])], { axes: [1, 2], keepdims: 1 });
  const text4 = g.op('Reshape', [textMean, g.int64s([-1, 1, 1, 1], 'col4')]);
  const textTerm = g.op('Mul', [
    text4,
    g.op('Add', [g.scalar(1, 'one'), g.op('Mul', [sample, g.scalar(k.C, 'c')])]),
  ]);
  const squared = g.op('Mul', [g.op('Mul', [text4, text4]), g.op('Mul', [sample, g.scalar(k.D, 'd')])]);
  const coupling = g.op('Mul', [
    g.op('ReduceMean', [sample], { axes: [1, 2, 3], keepdims: 1 }),
    g.scalar(k.S, 's'),
  ]);
  const out = g.op('Add', [
    g.op('Add', [g.op('Add', [g.op('Add', [g.op('Add', [linear, bent]), timeTerm]), textTerm]), squared]),
    coupling,
  ]);
  g.output(out, 'out_sample', 'float32', ['batch', 4, 'height', 'width']);
  return g.toModelBytes({ opsetVersion: 17, producerName: 'diffedit-studio-test' });
}

/** cos(d + 1) scaled by L, so that the graph's mean over tokens is the sum over tokens. */
function textWeights(length: number, width: number): Float32Array {
  return Float32Array.from({ length: width }, (_, d) => length * Math.cos(d + 1));
}

/** e of one prompt embedding [1, L, D], float64 (with the same float32 weights as the graph). */
export function analyticTextFeature(embedding: { dims: readonly number[]; data: Float32Array }): number {
  const [, length, width] = embedding.dims;
  const w = textWeights(length, width);
  let sum = 0;
  for (let l = 0; l < length; l++)
    for (let d = 0; d < width; d++) sum += embedding.data[l * width + d] * w[d];
  return sum / length;
}

/** The same function in float64 for one latent (4·h·w values, channel-major). */
export function analyticEps(
  x: Float64Array,
  t: number,
  text: number,
  k: AnalyticConstants = ANALYTIC,
): Float64Array {
  const plane = x.length / 4;
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  return x.map(
    (v, i) =>
      k.A * v +
      k.B * Math.tanh(v) +
      (t / 1000) * k.K[Math.floor(i / plane)] +
      text * (1 + k.C * v) +
      k.D * text * text * v +
      k.S * mean,
  );
}
