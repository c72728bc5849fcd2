import { Tensor } from '@diffedit/core';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { LatentPreviewer, ProgressRelay } from '@diffedit/nodes';
import { TOY_PROJECTION } from '../../packages/nodes/test/pixels/preview-projection.js';
import { recordingContext } from './node-context.js';

const projection = TOY_PROJECTION;

afterEach(() => vi.restoreAllMocks());

describe('LatentPreviewer', () => {
  it('reports every step but attaches a preview at most once per interval, and always at the last step', async () => {
    const { ctx, progress } = recordingContext();
    const previewer = new LatentPreviewer(ctx, projection, 400);
    const latent = new Tensor([1, 4, 2, 2]);
    // 12 steps, 150 ms apart: previews due at 0, 450, 900, 1350 ms (steps 1, 4, 7, 10) and the last (12)
    let now = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    for (let step = 1; step <= 12; step++) {
      await previewer.report(step, 12, latent);
      now += 150;
    }
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(progress.filter((p) => p.preview !== undefined).map((p) => p.step)).toEqual([1, 4, 7, 10, 12]);
    const shown = progress[0].preview!;
    expect(shown.mime).toBe('image/png');
    expect([shown.width, shown.height]).toEqual([2, 2]); // at the latent size (the editor scales it up)
  });

  it('without a projection (previews off) only reports progress', async () => {
    const { ctx, progress } = recordingContext();
    const previewer = new LatentPreviewer(ctx, undefined);
    for (let step = 1; step <= 3; step++) await previewer.report(step, 3, new Tensor([1, 4, 2, 2]));
    expect(progress.map((p) => [p.step, p.preview])).toEqual([
      [1, undefined],
      [2, undefined],
      [3, undefined],
    ]);
  });
});

describe('ProgressRelay', () => {
  it("aborts the loop's signal with the run's cancellation, during the loop only", async () => {
    const run = new AbortController();
    const { ctx } = recordingContext(run.signal);
    const relay = new ProgressRelay(ctx);
    const reason = new Error('cancelled by the user');
    const seen = await relay
      .around(
        (loopSignal) =>
          new Promise<never>((_resolve, reject) => {
            loopSignal.addEventListener('abort', () => reject(loopSignal.reason), { once: true });
            run.abort(reason);
          }),
      )
      .catch((error: unknown) => error);
    expect(seen).toBe(reason);
    expect(relay.signal.reason).toBe(reason);
    // once its loop is over, a relay no longer follows the run's signal
    const after = new AbortController();
    const done = new ProgressRelay(recordingContext(after.signal).ctx);
    expect(await done.around(async (loopSignal) => loopSignal.aborted)).toBe(false);
    after.abort(new Error('later'));
    expect(done.signal.aborted).toBe(false);
  });

  it('starts aborted when the run already is, and aborts with what ctx.progress threw', async () => {
    const run = new AbortController();
    run.abort(new Error('before'));
    const early = new ProgressRelay(recordingContext(run.signal).ctx);
    expect(early.signal.aborted).toBe(true);
    expect((early.signal.reason as Error).message).toBe('before');

    const failure = new Error('progress refused');
    const { ctx } = recordingContext();
    const relay = new ProgressRelay({
      ...ctx,
      progress: () => {
        throw failure;
      },
    });
    const outcome = await relay
      .around(async (loopSignal) => {
        relay.onEvent({ step: 1, total: 2 });
        await relay.settled().catch(() => undefined);
        return loopSignal.aborted;
      })
      .catch((error: unknown) => error);
    expect(outcome).toBe(failure);
    expect(relay.signal.reason).toBe(failure);
  });
});
