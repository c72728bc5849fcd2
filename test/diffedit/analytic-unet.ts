import { GraphBuilder } from '@diffedit/nodes';

/**
 * A UNet whose noise prediction is known in closed form, with the toy UNet's I/O (sample [B,4,h,w],
 * timestep int64 [B], encoder_hidden_states [B,L,D] → out_sample):
 *   ε(x, t, E) = A·x + B·tanh(x) + (t / 1000)·K[c] + mean(E)
 * where mean(E) is the mean of that row's embedding. Non-linear in x, time- and prompt-dependent, so every
 * part of the DiffEdit loops (CFG, the schedules, the blend) shows in the result.
 */
export const ANALYTIC = { A: 0.5, B: 0.3, K: [0.3, -0.2, 0.1, -0.1] } as const;

export function buildAnalyticUnet(): Uint8Array {
  const g = new GraphBuilder('analytic_unet');
  const sample = g.input('sample', 'float32', ['batch', 4, 'height', 'width']);
  const timestep = g.input('timestep', 'int64', ['batch']);
  const text = g.input('encoder_hidden_states', 'float32', ['batch', 'sequence', 'width']);
  const linear = g.op('Mul', [sample, g.scalar(ANALYTIC.A, 'a')]);
  const bent = g.op('Mul', [g.op('Tanh', [sample]), g.scalar(ANALYTIC.B, 'b')]);
  const t = g.op('Div', [g.op('Cast', [timestep], { to: 1 }), g.scalar(1000, 'thousand')]);
  const t4 = g.op('Reshape', [t, g.int64s([-1, 1, 1, 1], 'col')]);
  const k = g.constant(Float32Array.from(ANALYTIC.K), [1, 4, 1, 1], 'k');
  const timeTerm = g.op('Mul', [t4, k]);
  const textMean = g.op('ReduceMean', [text], { axes: [1, 2], keepdims: 1 });
  const text4 = g.op('Reshape', [textMean, g.int64s([-1, 1, 1, 1], 'col4')]);
  const out = g.op('Add', [g.op('Add', [g.op('Add', [linear, bent]), timeTerm]), text4]);
  g.output(out, 'out_sample', 'float32', ['batch', 4, 'height', 'width']);
  return g.toModelBytes({ opsetVersion: 17, producerName: 'diffedit-studio-test' });
}

/** The same function in float64 for one latent (4·h·w values, channel-major). */
export function analyticEps(x: Float64Array, t: number, textMean: number): Float64Array {
  const plane = x.length / 4;
  return x.map(
    (v, i) =>
      ANALYTIC.A * v + ANALYTIC.B * Math.tanh(v) + (t / 1000) * ANALYTIC.K[Math.floor(i / plane)] + textMean,
  );
}
