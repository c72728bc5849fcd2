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
  const k = topK > 0 ? Math.min(Math.floor(topK), logits.length) : logits.length;
  const kept = topIndices(logits, k);
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

/** True when index a ranks above b (higher logit, then lower index). */
function ranksAbove(logits: ArrayLike<number>, a: number, b: number): boolean {
  return logits[a] > logits[b] || (logits[a] === logits[b] && a < b);
}

/**
 * The indices of the k largest logits in rank order. A k-slot insertion list instead of sorting the whole
 * vocabulary: real T5 rows have 32k entries and top_k is small, and this runs per token and sequence.
 */
export function topIndices(logits: ArrayLike<number>, k: number): number[] {
  const n = logits.length;
  if (k >= n) {
    const all = Array.from({ length: n }, (_, i) => i);
    return all.sort((a, b) => (ranksAbove(logits, a, b) ? -1 : ranksAbove(logits, b, a) ? 1 : 0));
  }
  const kept = new Array<number>(k);
  let size = 0;
  for (let i = 0; i < n; i++) {
    if (size === k && !ranksAbove(logits, i, kept[k - 1])) continue;
    let j = size < k ? size++ : k - 1;
    while (j > 0 && ranksAbove(logits, i, kept[j - 1])) {
      kept[j] = kept[j - 1];
      j--;
    }
    kept[j] = i;
  }
  return kept;
}
