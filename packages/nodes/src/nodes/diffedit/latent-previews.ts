import { Tensor } from '@diffedit/core';
import type { NodeContext } from '@diffedit/core';

import { encodePngWithText, latentToPreviewRgb, type LatentPreviewProjection } from '../../pixels/index.js';
import type { DiffusionModel } from '../../models/diffusion-model.js';
import { errorMessage } from '../../models/model-errors.js';

const projections = new WeakMap<DiffusionModel, Promise<LatentPreviewProjection>>();
const PROBE = 4;

/**
 * The linear latent → RGB map of a model's own VAE decoder around 0, measured once per model: decode 0 and ±1 in
 * each latent channel (a tiny 4×4 latent) and take the mean colour responses. Model-agnostic and cheap.
 */
export function previewProjectionOf(
  model: DiffusionModel,
  signal?: AbortSignal,
): Promise<LatentPreviewProjection> {
  let projection = projections.get(model);
  if (!projection) {
    projection = measureProjection(model, signal);
    projections.set(model, projection);
    projection.catch(() => projections.delete(model));
  }
  return projection;
}

async function measureProjection(
  model: DiffusionModel,
  signal?: AbortSignal,
): Promise<LatentPreviewProjection> {
  const c = model.latentChannels;
  const plane = PROBE * PROBE;
  const probes = new Tensor([1 + 2 * c, c, PROBE, PROBE]);
  for (let ch = 0; ch < c; ch++) {
    probes.data.fill(
      1 / model.scalingFactor,
      (1 + 2 * ch) * c * plane + ch * plane,
      (1 + 2 * ch) * c * plane + (ch + 1) * plane,
    );
    probes.data.fill(
      -1 / model.scalingFactor,
      (2 + 2 * ch) * c * plane + ch * plane,
      (2 + 2 * ch) * c * plane + (ch + 1) * plane,
    );
  }
  const decoded = await model.vaeDecode(probes, { signal });
  const pixels = decoded.dims[2] * decoded.dims[3];
  const meanColour = (b: number, k: number): number => {
    let sum = 0;
    const base = (b * 3 + k) * pixels;
    for (let p = 0; p < pixels; p++) sum += decoded.data[base + p];
    return sum / pixels;
  };
  const rgb = (b: number): [number, number, number] => [meanColour(b, 0), meanColour(b, 1), meanColour(b, 2)];
  const bias = rgb(0);
  const weights = Array.from({ length: c }, (_, ch) => {
    const plus = rgb(1 + 2 * ch);
    const minus = rgb(2 + 2 * ch);
    return [0, 1, 2].map((k) => (plus[k] - minus[k]) / 2) as [number, number, number];
  });
  return { weights, bias };
}

/**
 * Streams cheap previews of the current latent through ctx.progress, at most one every `intervalMs` (and
 * always at the last step); other steps report progress without a preview.
 */
export class LatentPreviewer {
  private last = -Infinity;

  constructor(
    private readonly ctx: NodeContext,
    private readonly projection: LatentPreviewProjection | undefined,
    private readonly intervalMs = 400,
  ) {}

  static async for(ctx: NodeContext, model: DiffusionModel, enabled: boolean): Promise<LatentPreviewer> {
    let projection: LatentPreviewProjection | undefined;
    if (enabled) {
      try {
        projection = await previewProjectionOf(model, ctx.signal);
      } catch (err) {
        ctx.log.warn(`no latent previews: ${errorMessage(err)}`);
      }
    }
    return new LatentPreviewer(ctx, projection);
  }

  /** `latent`: the current sample [B, C, h, w] (batch row 0 is shown). */
  async report(step: number, total: number, latent: Tensor): Promise<void> {
    const now = Date.now();
    if (this.projection === undefined || (now - this.last < this.intervalMs && step < total)) {
      this.ctx.progress(step, total);
      return;
    }
    this.last = now;
    const [, c, h, w] = latent.dims;
    const upscale = Math.max(1, Math.min(8, Math.floor(256 / Math.max(h, w))));
    const rgb = latentToPreviewRgb(latent.data.subarray(0, c * h * w), c, h, w, this.projection, upscale);
    const bytes = await encodePngWithText(rgb);
    this.ctx.progress(step, total, { mime: 'image/png', bytes, width: rgb.width, height: rgb.height });
  }
}
