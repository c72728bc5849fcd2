import type { Tensor } from '@diffedit/core';
import type { NodeContext } from '@diffedit/core';

import { encodePngWithText, latentToPreviewRgb, type LatentPreviewProjection } from '../../pixels/index.js';

/**
 * Streams cheap previews of the current latent through ctx.progress (the projection comes with the encoded
 * image, see VAEEncode; undefined turns previews off), at most one every `intervalMs` (and
 * always at the last step); other steps report progress without a preview.
 */
export class LatentPreviewer {
  private last = -Infinity;

  constructor(
    private readonly ctx: NodeContext,
    private readonly projection: LatentPreviewProjection | undefined,
    private readonly intervalMs = 400,
  ) {}

  /** `latent`: the current sample [B, C, h, w] (batch row 0 is shown). */
  async report(step: number, total: number, latent: Tensor): Promise<void> {
    const now = Date.now();
    if (this.projection === undefined || (now - this.last < this.intervalMs && step < total)) {
      this.ctx.progress(step, total);
      return;
    }
    this.last = now;
    const [, c, h, w] = latent.dims;
    // about 128 px on the long side (a 512² image's 64² latent ×2): a quarter of the pixels of 256 px for
    // the PNG encoder, and the client scales it up for display anyway
    const upscale = Math.max(1, Math.min(8, Math.floor(128 / Math.max(h, w))));
    const rgb = latentToPreviewRgb(latent.data.subarray(0, c * h * w), c, h, w, this.projection, upscale);
    const bytes = await encodePngWithText(rgb);
    this.ctx.progress(step, total, { mime: 'image/png', bytes, width: rgb.width, height: rgb.height });
  }
}
