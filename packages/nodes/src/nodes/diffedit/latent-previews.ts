import type { NodeContext, Tensor } from '@diffedit/core';

import { encodePreviewPng, type LatentPreviewProjection } from '../../pixels/index.js';
import { StepReporter } from './step-reporter.js';
import type { PreviewSettings, StepEvent } from './step-reporter.js';

/** Least time between two latent previews of a loop. */
export const PREVIEW_INTERVAL_MS = 400;

/** The preview settings of a loop program: none when previews are off (no projection). */
export function previewSettings(
  projection: LatentPreviewProjection | undefined,
): PreviewSettings | undefined {
  return projection === undefined ? undefined : { projection, intervalMs: PREVIEW_INTERVAL_MS };
}

/**
 * Turns a loop program's StepEvents into ctx.progress calls, in order (a preview is PNG-encoded here, at most
 * a few per loop). When ctx.progress throws (the run was cancelled), `signal` aborts with that error, so the
 * program stops at its next step and the node fails with the same error as ctx.progress gave.
 */
export class ProgressRelay {
  readonly signal: AbortSignal;
  private readonly loop = new AbortController();
  private chain: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  // the run's cancellation forwarded to the loop's signal by hand: AbortSignal.any cost ~0.3 ms of main-thread
  // CPU per node (weak references and their finalization), more than the loop's own JavaScript here
  private readonly forwardCancel = (): void => this.loop.abort(this.ctx.signal.reason);

  constructor(private readonly ctx: NodeContext) {
    this.signal = this.loop.signal;
    if (ctx.signal.aborted) this.forwardCancel();
    else ctx.signal.addEventListener('abort', this.forwardCancel, { once: true });
  }

  readonly onEvent = (event: unknown): void => {
    const { step, total, preview } = event as StepEvent;
    this.chain = this.chain.then(async () => {
      // a cancelled loop reports nothing more (its last step may finish before it sees the cancellation)
      if (this.failure !== undefined || this.signal.aborted) return;
      try {
        if (preview === undefined) {
          this.ctx.progress(step, total);
          return;
        }
        const { width, height, rgb } = preview;
        const bytes = encodePreviewPng(rgb, width, height);
        this.ctx.progress(step, total, { mime: 'image/png', bytes, width, height });
      } catch (error) {
        this.failure = { error };
        this.loop.abort(error);
      }
    });
  };

  /** Waits for the events delivered so far; throws what ctx.progress threw, if it did. */
  async settled(): Promise<void> {
    await this.chain;
    if (this.failure !== undefined) throw this.failure.error;
  }

  /** Runs `loop` (given the relay's signal), then waits for its last events to reach ctx.progress. */
  async around<T>(loop: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await loop(this.signal);
    } finally {
      // whether the loop ended or failed; a failed ctx.progress's error wins, as settled() throws it
      await this.settled().finally(() => this.ctx.signal.removeEventListener('abort', this.forwardCancel));
    }
  }
}

/**
 * Streams cheap previews of the current latent through ctx.progress (the projection comes with the encoded
 * image, see VAEEncode; undefined turns previews off), at most one every `intervalMs` (and always at the
 * last step); other steps report progress without a preview. For loops that run on this thread (the DiffEdit
 * nodes' loops run as programs, which report with the same StepReporter).
 */
export class LatentPreviewer {
  private readonly relay: ProgressRelay;
  private readonly reporter: StepReporter;

  constructor(
    ctx: NodeContext,
    projection: LatentPreviewProjection | undefined,
    intervalMs = PREVIEW_INTERVAL_MS,
  ) {
    this.relay = new ProgressRelay(ctx);
    const settings = projection === undefined ? undefined : { projection, intervalMs };
    this.reporter = new StepReporter((event) => this.relay.onEvent(event), settings);
  }

  /** `latent`: the current sample [B, C, h, w] (batch row 0 is shown). */
  async report(step: number, total: number, latent: Tensor): Promise<void> {
    this.reporter.report(step, total, latent);
    await this.relay.settled();
  }
}
