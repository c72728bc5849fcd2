// Per-step progress of a sampling loop with throttled latent previews; runs inside loop programs (the model
// worker included), so it imports only light, thread-agnostic modules.
import type { Tensor } from '@diffedit/core';

import { latentToPreviewBytes } from '../../pixels/latent-preview.js';
import type { LatentPreviewProjection } from '../../pixels/latent-preview.js';

export interface PreviewSettings {
  readonly projection: LatentPreviewProjection;
  /** least time between two previews (the last step always has one) */
  readonly intervalMs: number;
}

/** A step done; `preview`: 8-bit RGB (HWC) of the current latent, when one is due. */
export interface StepEvent {
  readonly step: number;
  readonly total: number;
  readonly preview?: { readonly width: number; readonly height: number; readonly rgb: Uint8Array };
}

/**
 * Emits StepEvents with a small preview of the latent (core's cheap linear projection, see VAEEncode) at
 * most every intervalMs and always at the last step; no previews without settings. Steps without a preview
 * are reported at most every `eventIntervalMs` (0: every step); the first and the last step always are.
 */
export class StepReporter {
  private lastPreview = -Infinity;
  private lastEvent = -Infinity;

  constructor(
    private readonly emit: (event: StepEvent, transfer: ArrayBuffer[]) => void,
    private readonly previews: PreviewSettings | undefined,
    private readonly eventIntervalMs = 0,
  ) {}

  /** `latent`: the current sample [B, C, h, w] (batch row 0 is shown). */
  report(step: number, total: number, latent: Tensor): void {
    const now = Date.now();
    const settings = this.previews;
    const last = step >= total;
    if (settings === undefined || (now - this.lastPreview < settings.intervalMs && !last)) {
      if (last || now - this.lastEvent >= this.eventIntervalMs) {
        this.lastEvent = now;
        this.emit({ step, total }, []);
      }
      return;
    }
    this.lastPreview = now;
    this.lastEvent = now;
    const [, c, h, w] = latent.dims;
    // at the latent's size (a 512² image's 64²), as ComfyUI's latent2rgb previews: the editor scales it up,
    // pixelated (what this upscaled to ~128 px before, nearest). The loop's step and the main thread's PNG
    // encode handle 4–16× fewer pixels (32² latent: ~150 → ~55 µs and ~240 → ~75 µs a preview, hot), and
    // the last step's preview is encoded before its node can finish
    const preview = latentToPreviewBytes(latent.data.subarray(0, c * h * w), c, h, w, settings.projection);
    this.emit({ step, total, preview }, [preview.rgb.buffer as ArrayBuffer]);
  }
}
