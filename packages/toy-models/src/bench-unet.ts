import { GraphBuilder } from './onnx-builder/index.js';
import { seededRandom } from './scenes/random.js';
import { TEXT_EMBEDDING } from './toy-text-encoder.js';

/**
 * Channel widths of the bench UNet's three levels (latent, ½, ¼ resolution). SD's are 320/640/1280/1280 at
 * 64² latents; these keep its shape (conv blocks down and up, skips, cross-attention on the text embedding) at
 * the cost issue 12 asks of it, tens of ms per call: a batch-2 call on a 256² image's 32² latent takes ~21 ms
 * on two onnxruntime threads of the 2-core dev VM (32/64/128 took 4.7 ms, too light to stand for a model).
 */
export const BENCH_UNET_CHANNELS = [64, 128, 256] as const;

/**
 * A UNet for timing only: optimum's SD UNet layout (`sample` [B,4,h,w], `timestep` int64 [B],
 * `encoder_hidden_states` [B,77,D] → `out_sample` [B,4,h,w]) with fixed random weights and realistic work —
 * 3×3 conv blocks with SiLU at three resolutions, strided-conv down-sampling, nearest up-sampling with skip
 * connections, a timestep embedding added at every level and one cross-attention block over the text at the
 * middle level. Its predictions mean nothing (bounded by a final tanh so a DiffEdit run stays finite).
 */
export function buildBenchUnet(seed = 12): GraphBuilder {
  const g = new GraphBuilder('bench_unet');
  const random = seededRandom(seed);
  const normal = (): number => {
    const u = Math.max(random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const weights = (count: number, std: number): Float32Array =>
    Float32Array.from({ length: count }, () => normal() * std);

  const sample = g.input('sample', 'float32', ['batch_size', 4, 'height', 'width']);
  const timestep = g.input('timestep', 'int64', ['batch_size']);
  const text = g.input('encoder_hidden_states', 'float32', [
    'batch_size',
    'sequence_length',
    TEXT_EMBEDDING.size,
  ]);

  const conv = (x: string, cin: number, cout: number, name: string, stride = 1, gain = 1): string => {
    const std = gain * Math.sqrt(2 / (cin * 9));
    const w = g.constant(weights(cout * cin * 9, std), [cout, cin, 3, 3], `${name}_w`);
    const b = g.constant(new Float32Array(cout), [cout], `${name}_b`);
    return g.op('Conv', [x, w, b], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [stride, stride] });
  };
  const silu = (x: string): string => g.op('Mul', [x, g.op('Sigmoid', [x])]);
  const half = g.scalar(0.5, 'half');
  // Timestep embedding: one learned row per timestep and level, added to the features as a per-channel bias.
  const timeBias = (channels: number, name: string): string => {
    const table = g.constant(weights(1000 * channels, 0.1), [1000, channels], `${name}_table`);
    return g.op('Reshape', [
      g.op('Gather', [table, timestep], { axis: 0 }),
      g.int64s([-1, channels, 1, 1], `${name}_shape`),
    ]);
  };
  const resBlock = (x: string, channels: number, name: string): string => {
    const h = conv(silu(g.op('Add', [x, timeBias(channels, `${name}_t`)])), channels, channels, `${name}_1`);
    const out = conv(silu(h), channels, channels, `${name}_2`);
    return g.op('Add', [x, g.op('Mul', [out, half])]);
  };
  const crossAttention = (x: string, channels: number, name: string): string => {
    const d = TEXT_EMBEDDING.size;
    const tokens = g.op('Transpose', [g.op('Reshape', [x, g.int64s([0, 0, -1], `${name}_flat`)])], {
      perm: [0, 2, 1],
    }); // [B, hw, C]
    const project = (input: string, cin: number, what: string): string =>
      g.op('MatMul', [
        input,
        g.constant(weights(cin * channels, 1 / Math.sqrt(cin)), [cin, channels], `${name}_${what}`),
      ]);
    const q = project(tokens, channels, 'q');
    const k = project(text, d, 'k'); // [B, 77, C]
    const v = project(text, d, 'v');
    const scores = g.op('Mul', [
      g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 2, 1] })]),
      g.scalar(1 / Math.sqrt(channels), `${name}_scale`),
    ]);
    const attended = project(g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]), channels, 'o');
    const back = g.op('Reshape', [g.op('Transpose', [attended], { perm: [0, 2, 1] }), g.op('Shape', [x])]);
    return g.op('Add', [x, back]);
  };
  const up = (x: string): string =>
    g.op('Resize', [x, '', g.constant(Float32Array.from([1, 1, 2, 2]), [4], 'up_scales')], {
      mode: 'nearest',
    });

  const [c1, c2, c3] = BENCH_UNET_CHANNELS;
  const level1 = resBlock(conv(sample, 4, c1, 'conv_in'), c1, 'down1');
  const level2 = resBlock(conv(level1, c1, c2, 'down1_to_2', 2), c2, 'down2');
  let h = resBlock(conv(level2, c2, c3, 'down2_to_3', 2), c3, 'mid1');
  h = crossAttention(h, c3, 'mid_attn');
  h = resBlock(h, c3, 'mid2');
  h = resBlock(g.op('Add', [conv(up(h), c3, c2, 'up3_to_2'), level2]), c2, 'up2');
  h = crossAttention(h, c2, 'up2_attn');
  h = resBlock(g.op('Add', [conv(up(h), c2, c1, 'up2_to_1'), level1]), c1, 'up1');
  // a small output layer keeps the tanh in its linear range: predictions vary with every input
  const out = g.op('Tanh', [conv(silu(h), c1, 4, 'conv_out', 1, 0.02)]);
  g.output(g.op('Identity', [out]), 'out_sample', 'float32', ['batch_size', 4, 'height', 'width']);
  return g;
}
