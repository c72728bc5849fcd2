import { GraphBuilder } from './onnx-builder/index.js';

export const VAE_SCALING_FACTOR = 0.18215;
/** Log-variance of the toy posterior: exp(0.5·(−30)) ≈ 3e-7, a near-deterministic encoder. */
export const VAE_LOGVAR = -30;
export const VAE_SCALE = 8;

/**
 * Toy VAE encoder: `sample` [B,3,H,W] in [-1,1] → `latent_parameters` [B,8,H/8,W/8] = mean ‖ logvar.
 * mean = 8×8 average colour / 0.18215 (so that mean·scaling_factor is the colour), 4th channel 0.
 */
export function buildToyVaeEncoder(): GraphBuilder {
  const g = new GraphBuilder('toy_vae_encoder');
  const x = g.input('sample', 'float32', ['batch_size', 3, 'height', 'width']);
  const pooled = g.op('AveragePool', [x], {
    kernel_shape: [VAE_SCALE, VAE_SCALE],
    strides: [VAE_SCALE, VAE_SCALE],
  });
  const mean = g.op(
    'Div',
    [pooled, g.scalar(VAE_SCALING_FACTOR, 'scaling_factor')],
    {},
    { outputName: 'mean_rgb' },
  );
  // x − x is +0 (x·0 would give −0 for negative colours).
  const firstChannel = g.op('Slice', [pooled, g.int64s([0]), g.int64s([1]), g.int64s([1])]);
  const zero = g.op('Sub', [firstChannel, firstChannel]);
  const logvar = g.op('Add', [zero, g.scalar(VAE_LOGVAR, 'logvar')]);
  const params = g.op('Concat', [mean, zero, logvar, logvar, logvar, logvar], { axis: 1 });
  g.output(params, 'latent_parameters', 'float32', ['batch_size', 8, 'height_latent', 'width_latent']);
  return g;
}

/**
 * Toy VAE decoder: `latent_sample` [B,4,h,w] → `sample` [B,3,8h,8w]: first three channels ·0.18215, bilinear
 * ×8 upsampling (half-pixel centres), clipped to [-1, 1].
 */
export function buildToyVaeDecoder(): GraphBuilder {
  const g = new GraphBuilder('toy_vae_decoder');
  const z = g.input('latent_sample', 'float32', ['batch_size', 4, 'height_latent', 'width_latent']);
  const rgb = g.op('Slice', [z, g.int64s([0]), g.int64s([3]), g.int64s([1])]);
  const colour = g.op('Mul', [rgb, g.scalar(VAE_SCALING_FACTOR, 'scaling_factor')]);
  const scales = g.constant(Float32Array.from([1, 1, VAE_SCALE, VAE_SCALE]), [4], 'scales');
  const up = g.op('Resize', [colour, '', scales], {
    mode: 'linear',
    coordinate_transformation_mode: 'half_pixel',
  });
  const clipped = g.op('Clip', [up, g.scalar(-1, 'min'), g.scalar(1, 'max')]);
  g.output(clipped, 'sample', 'float32', ['batch_size', 3, 'height', 'width']);
  return g;
}
