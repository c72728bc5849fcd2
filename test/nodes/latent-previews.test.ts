import { Tensor } from '@diffedit/core';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { LatentPreviewer } from '@diffedit/nodes';
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
    expect([shown.width, shown.height]).toEqual([16, 16]); // a 2×2 latent upscaled ×8
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
