import { Tensor } from '@diffedit/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { StepReporter } from '../../src/nodes/diffedit/step-reporter.js';
import type { StepEvent } from '../../src/nodes/diffedit/step-reporter.js';
import { TOY_PROJECTION } from './preview-projection.js';

const latent = Tensor.full([1, 4, 2, 2], 0.5);
const projection = TOY_PROJECTION;

/** Reports `total` steps at the given times (ms since the start); returns what was emitted, as [step, preview?]. */
function reported(reporter: (emit: (e: StepEvent) => void) => StepReporter, times: number[]): string[] {
  const events: string[] = [];
  const r = reporter((e) => events.push(`${e.step}${e.preview ? '+preview' : ''}`));
  const start = Date.now();
  times.forEach((t, i) => {
    vi.setSystemTime(start + t);
    r.report(i + 1, times.length, latent);
  });
  return events;
}

describe('StepReporter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports every step when the caller is on the same thread (interval 0)', () => {
    expect(reported((emit) => new StepReporter(emit, undefined), [0, 1, 2, 3])).toEqual(['1', '2', '3', '4']);
  });

  it('skips steps without a preview closer than the interval to the last event; the first and last always come', () => {
    const times = [0, 10, 39, 40, 60, 81, 82];
    expect(reported((emit) => new StepReporter(emit, undefined, 40), times)).toEqual(['1', '4', '6', '7']);
  });

  it('never skips a preview, and a preview counts as the last event', () => {
    const previews = { projection, intervalMs: 100 };
    // previews at 0 and 100 (and the last step); plain steps only 40 ms after the last event of either kind
    const times = [0, 20, 45, 70, 100, 120, 150];
    expect(reported((emit) => new StepReporter(emit, previews, 40), times)).toEqual([
      '1+preview',
      '3',
      '5+preview',
      '7+preview',
    ]);
  });
});
