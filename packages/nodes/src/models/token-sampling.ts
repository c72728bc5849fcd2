import type { SeededRng } from '@diffedit/core';

/** Index of the largest logit (the first one on ties, like torch.argmax). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * transformers' sampling for one row: temperature, then top-k filtering, then softmax and one multinomial draw.
 * Candidates are ordered by descending logit (ties by index) so a seed always picks the same token.
 */
export function sampleToken(
  logits: ArrayLike<number>,
  temperature: number,
  topK: number,
  rng: SeededRng,
): number {
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  const order = Array.from({ length: logits.length }, (_, i) => i);
  order.sort((a, b) => logits[b] - logits[a] || a - b);
  const k = topK > 0 ? Math.min(Math.floor(topK), order.length) : order.length;
  const kept = order.slice(0, k);
  const top = logits[kept[0]] / temperature;
  const weights = kept.map((i) => Math.exp(logits[i] / temperature - top));
  let total = 0;
  for (const w of weights) total += w;
  let u = rng.uniform() * total;
  for (let j = 0; j < kept.length; j++) {
    u -= weights[j];
    if (u < 0) return kept[j];
  }
  return kept[kept.length - 1];
}
