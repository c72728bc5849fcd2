import { SeededRng } from '@diffedit/core';
import { describe, expect, it } from 'vitest';
import { argmax, sampleToken, topIndices } from '../../src/models/token-sampling.js';

describe('token sampling', () => {
  it('argmax takes the first maximum', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
  });

  it('draws from softmax(logits / T) restricted to the top k', () => {
    const rng = new SeededRng(5);
    // top-2 of these are indices 3 and 1 with probabilities ∝ e^(2/T), e^(1/T) = e^4 : e^2 at T = 0.5
    const logits = [0, 1, -5, 2, 0.5];
    const counts = new Array(5).fill(0);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits, 0.5, 2, rng)]++;
    expect(counts[0] + counts[2] + counts[4]).toBe(0);
    const p3 = Math.exp(4) / (Math.exp(4) + Math.exp(2));
    expect(counts[3] / n).toBeCloseTo(p3, 1);
    expect(Math.abs(counts[3] / n - p3)).toBeLessThan(0.015);
  });

  it('is reproducible for a seed', () => {
    const draw = (seed: number): number[] => {
      const rng = new SeededRng(seed);
      return Array.from({ length: 20 }, () => sampleToken([0.1, 0.2, 0.3, 0.4], 1, 0, rng));
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
  });
});

describe('topIndices', () => {
  it('equals a full sort by descending logit, ties by index, for every k', () => {
    const rng = new SeededRng(9);
    for (let trial = 0; trial < 50; trial++) {
      // few distinct values so that ties are common
      const logits = Array.from({ length: 40 }, () => Math.floor(rng.uniform() * 8) - 4);
      const sorted = logits.map((_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
      for (const k of [1, 2, 10, 39, 40]) expect(topIndices(logits, k)).toEqual(sorted.slice(0, k));
    }
  });
});
