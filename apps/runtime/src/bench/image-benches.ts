import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { decodeImage, imageBatchFromRgb, MEGAPIXEL } from '@diffedit/nodes';
import sharp from 'sharp';

import { timeRepetitions } from './measure.js';
import type { BenchContext } from './resources.js';
import { round3 } from './stats.js';
import type { BenchOutcome } from './suite.js';

/** Memory a LoadImage decode may take per megapixel before the bench flags it (decode buffers + float RGB). */
const MAX_MIB_PER_MEGAPIXEL = 200;

/**
 * What LoadImage costs per megapixel: decode (sharp), RGB floats, the IMAGE batch. RSS is sampled every 2 ms
 * above a baseline taken just before each decode, so the figure is the decode's own peak, not the process's.
 */
export async function loadImageMemory(ctx: BenchContext): Promise<BenchOutcome> {
  const sides = ctx.quick ? [1024, 2048] : [1024, 2048, 4096];
  const dir = await mkdtemp(join(tmpdir(), 'diffedit-bench-images-'));
  const sizes: Array<{ megapixels: number; ms: number; peakRssDeltaMiB: number; mibPerMegapixel: number }> =
    [];
  const samples: number[] = [];
  try {
    for (const side of sides) {
      const path = join(dir, `noise-${side}.png`);
      await sharp({
        create: {
          width: side,
          height: side,
          channels: 3,
          background: '#808080',
          noise: { type: 'gaussian', mean: 128, sigma: 40 },
        },
      })
        .png({ compressionLevel: 1 })
        .toFile(path);
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
      let image: unknown;
      const [ms] = await timeRepetitions(1, async () => {
        const rgb = await decodeImage(path, { maxPixels: side * side });
        image = imageBatchFromRgb([rgb]);
      });
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      if (image === undefined) throw new Error('no image decoded');
      const megapixels = (side * side) / MEGAPIXEL;
      const delta = (peak - baseline) / MEGAPIXEL;
      sizes.push({
        megapixels,
        ms: round3(ms),
        peakRssDeltaMiB: round3(delta),
        mibPerMegapixel: round3(delta / megapixels),
      });
      samples.push(ms);
      image = undefined;
      await rm(path);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const worst = Math.max(...sizes.map((s) => s.mibPerMegapixel));
  return {
    params: { sides, format: 'png (gaussian noise)', megapixel: '1024 × 1024 pixels' },
    samples,
    details: { sizes, worstMiBPerMegapixel: worst },
    checks: [
      {
        name: `peak RSS per megapixel ≤ ${MAX_MIB_PER_MEGAPIXEL} MiB`,
        ok: worst <= MAX_MIB_PER_MEGAPIXEL,
        detail: sizes.map((s) => `${s.megapixels} MP: ${s.mibPerMegapixel} MiB/MP`).join(', '),
      },
    ],
  };
}
