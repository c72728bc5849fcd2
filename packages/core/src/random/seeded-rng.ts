import { Tensor } from '../tensor/tensor.js';
import { deterministicLog, deterministicLogQuad, logQuad } from './det-log.js';
import { GOLDEN_GAMMA, fnv1a64, mix64, splitmix64, toUint64 } from './splitmix64.js';

export type Seed = number | bigint;
export type StreamId = number | string;

/** A snapshot of a generator (see `SeededRng.snapshot`); plain data, JSON-safe. */
export interface RngState {
  readonly key: string;
  readonly s: readonly [number, number, number, number];
  readonly spare: number | null;
}

function seedToBigint(seed: Seed, where: string): bigint {
  if (typeof seed === 'bigint') {
    if (seed < 0n) throw new RangeError(`${where}: seed must be non-negative, got ${seed}`);
    return toUint64(seed);
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`${where}: seed must be a non-negative safe integer, got ${seed}`);
  }
  return BigInt(seed);
}

function streamToBigint(stream: StreamId): bigint {
  if (typeof stream === 'string') return fnv1a64(stream);
  if (!Number.isSafeInteger(stream) || stream < 0) {
    throw new RangeError(
      `SeededRng.fork: stream must be a non-negative safe integer or a string, got ${stream}`,
    );
  }
  return BigInt(stream);
}

/**
 * A seeded, platform-independent random generator (see docs/numerics.md, "Random numbers"):
 * - uniform bits: xoshiro128** (Blackman & Vigna), 32-bit words via Math.imul, period 2^128 − 1;
 * - state: the four words come from SplitMix64 seeded with the generator's 64-bit key (key = the seed);
 * - uniform doubles in [0, 1): 53 bits from two words, (a >>> 5)·2^26 + (b >>> 6), divided by 2^53;
 * - normals: Marsaglia's polar method on two such uniforms mapped to [−1, 1), rejecting s ∉ (0, 1), with a
 *   logarithm built from IEEE arithmetic only (`deterministicLog`); both values of a pair are used, the
 *   second one is kept as `spare` for the next call.
 * - streams: `fork(id)` derives key' = mix64(key XOR mix64((id + 1)·γ)), independent of how many numbers
 *   the parent has drawn, so named sub-streams (e.g. one per noise map) are reproducible in any order.
 */
export class SeededRng {
  private readonly key: bigint;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  // the spare as a number plus a flag: a field that also holds null makes V8 box every double stored in it
  private spare = 0;
  private hasSpare = false;

  constructor(seed: Seed) {
    this.key = seedToBigint(seed, 'SeededRng');
    const [a, b] = splitmix64(this.key, 2);
    this.s0 = Number(a & 0xffffffffn);
    this.s1 = Number(a >> 32n);
    this.s2 = Number(b & 0xffffffffn);
    this.s3 = Number(b >> 32n);
    // SplitMix64 outputs are a bijection of distinct inputs, but guard the one forbidden xoshiro state anyway.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** An independent generator for sub-stream `id` (a number or a name), derived from this one's key only. */
  fork(id: StreamId): SeededRng {
    const salt = mix64(toUint64((streamToBigint(id) + 1n) * GOLDEN_GAMMA));
    return new SeededRng(mix64(this.key ^ salt));
  }

  /** The next 32 uniform random bits as an unsigned integer. */
  nextUint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    let s2 = this.s2 ^ s0;
    let s3 = this.s3 ^ s1;
    this.s1 = (s1 ^ s2) >>> 0;
    this.s0 = (s0 ^ s3) >>> 0;
    s2 ^= t;
    s3 = rotl(s3, 11);
    this.s2 = s2 >>> 0;
    this.s3 = s3 >>> 0;
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** A uniform integer in [lo, hi) (unbiased: rejection sampling on 32-bit words). hi − lo ≤ 2^32. */
  randint(lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi <= lo || hi - lo > 2 ** 32) {
      throw new RangeError(
        `SeededRng.randint: need integers lo < hi with hi − lo ≤ 2^32, got [${lo}, ${hi})`,
      );
    }
    const range = hi - lo;
    const limit = 2 ** 32 - (2 ** 32 % range); // largest multiple of range that fits
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return lo + (x % range);
    }
  }

  /** A standard normal sample. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * deterministicLog(s)) / s);
        this.spare = v * f;
        this.hasSpare = true;
        return u * f;
      }
    }
  }

  /**
   * Fills `out` with N(mean, std²) samples in order (in place, no allocation); returns `out`. The same numbers
   * as calling normal() once per element, with the generator's state in local variables for the whole fill
   * (about a third less CPU per sample than the calls), and the logarithms of four accepted pairs computed
   * together (deterministicLogQuad: a fifth less again than two at a time).
   */
  fillNormal<A extends Float32Array | Float64Array>(out: A, mean = 0, std = 1): A {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.hasSpare) {
      this.hasSpare = false;
      out[i++] = mean + std * this.spare;
    }
    // xoshiro128** on int32 locals: the same bit operations as nextUint32 (whose >>> 0 only changes how the
    // words are stored, not their bits)
    let s0 = this.s0 | 0;
    let s1 = this.s1 | 0;
    let s2 = this.s2 | 0;
    let s3 = this.s3 | 0;
    const pairs = acceptedPairs;
    while (i < n) {
      // as many pairs (u, v) as normal() would accept for the values still needed, four at most, drawn in
      // normal()'s order: the same draws, the same numbers
      const count = Math.min(4, (n - i + 1) >> 1);
      for (let k = 0; k < count; k++) {
        // The four generator steps are written out on purpose: a helper would have to return the state's four
        // words (an allocation per step, or the fields this loop keeps out of memory).
        for (;;) {
          let r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
          let t = s1 << 9;
          s2 ^= s0;
          s3 ^= s1;
          s1 ^= s2;
          s0 ^= s3;
          s2 ^= t;
          s3 = rotl(s3, 11);
          const a1 = r >>> 5;
          r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
          t = s1 << 9;
          s2 ^= s0;
          s3 ^= s1;
          s1 ^= s2;
          s0 ^= s3;
          s2 ^= t;
          s3 = rotl(s3, 11);
          const b1 = r >>> 6;
          r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
          t = s1 << 9;
          s2 ^= s0;
          s3 ^= s1;
          s1 ^= s2;
          s0 ^= s3;
          s2 ^= t;
          s3 = rotl(s3, 11);
          const a2 = r >>> 5;
          r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
          t = s1 << 9;
          s2 ^= s0;
          s3 ^= s1;
          s1 ^= s2;
          s0 ^= s3;
          s2 ^= t;
          s3 = rotl(s3, 11);
          const b2 = r >>> 6;
          // uniform() twice, mapped to [−1, 1) as normal() does
          const u = 2 * ((a1 * 67108864 + b1) / 9007199254740992) - 1;
          const v = 2 * ((a2 * 67108864 + b2) / 9007199254740992) - 1;
          const sq = u * u + v * v;
          if (sq > 0 && sq < 1) {
            pairs[3 * k] = u;
            pairs[3 * k + 1] = v;
            pairs[3 * k + 2] = sq;
            break;
          }
        }
      }
      if (count === 4) deterministicLogQuad(pairs[2], pairs[5], pairs[8], pairs[11]);
      else for (let k = 0; k < count; k++) logQuad[k] = deterministicLog(pairs[3 * k + 2]);
      for (let k = 0; k < count; k++) {
        const f = Math.sqrt((-2 * logQuad[k]) / pairs[3 * k + 2]);
        out[i++] = mean + std * (pairs[3 * k] * f);
        if (i < n) out[i++] = mean + std * (pairs[3 * k + 1] * f);
        else {
          this.spare = pairs[3 * k + 1] * f;
          this.hasSpare = true;
        }
      }
    }
    this.s0 = s0 >>> 0;
    this.s1 = s1 >>> 0;
    this.s2 = s2 >>> 0;
    this.s3 = s3 >>> 0;
    return out;
  }

  /** A new float32 tensor of standard normal samples (torch.randn with this generator). */
  randn(dims: readonly number[]): Tensor {
    const t = new Tensor(dims);
    this.fillNormal(t.data);
    return t;
  }

  /** A copy that continues the same sequence independently. */
  clone(): SeededRng {
    const c = new SeededRng(this.key);
    c.restore(this.snapshot());
    return c;
  }

  snapshot(): RngState {
    return {
      key: this.key.toString(),
      s: [this.s0, this.s1, this.s2, this.s3],
      spare: this.hasSpare ? this.spare : null,
    };
  }

  /** Continues from a snapshot (any generator can restore any snapshot; the key decides future forks). */
  static fromSnapshot(state: RngState): SeededRng {
    const r = new SeededRng(BigInt(state.key));
    r.restore(state);
    return r;
  }

  private restore(state: RngState): void {
    const [a, b, c, d] = state.s;
    for (const w of state.s) {
      if (!Number.isInteger(w) || w < 0 || w > 0xffffffff)
        throw new RangeError(`SeededRng: bad state word ${w}`);
    }
    if ((a | b | c | d) === 0)
      throw new RangeError('SeededRng: the all-zero state is invalid for xoshiro128**');
    this.s0 = a;
    this.s1 = b;
    this.s2 = c;
    this.s3 = d;
    this.hasSpare = state.spare !== null;
    this.spare = state.spare ?? 0;
  }
}

/** fillNormal's accepted pairs of a turn: (u, v, u² + v²) four times. */
const acceptedPairs = new Float64Array(12);

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
