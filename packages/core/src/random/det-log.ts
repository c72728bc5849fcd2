/*
 * A natural logarithm built only from +, −, ×, ÷ (which IEEE 754 makes bit-identical on every platform).
 * Math.log is "implementation-approximated" in ECMAScript, so engines may differ in the last bit; the Gaussian
 * sampler uses this instead so that a seed gives the same numbers everywhere.
 */
// one double and its two 32-bit words, in the platform's byte order (typed arrays: cheaper than a DataView)
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // the word with sign and exponent
const SQRT2 = 1.4142135623730951;
const LN2_HI = 0.6931471803691238; // ln 2 split so that e·LN2_HI is exact for |e| < 2^11
const LN2_LO = 1.9082149292705877e-10;

/** ln(x) for finite x > 0 (normal or subnormal); accurate to about 1 ulp. */
export function deterministicLog(x: number): number {
  if (!(x > 0) || x === Infinity) {
    if (x === 0) return -Infinity;
    if (x === Infinity) return Infinity;
    return NaN;
  }
  let e = 0;
  let m = x;
  if (m < 2.2250738585072014e-308) {
    m *= 18014398509481984; // 2^54, exact: brings subnormals into the normal range
    e -= 54;
  }
  f64[0] = m;
  const hi = u32[HI];
  const biased = (hi >>> 20) & 0x7ff;
  e += biased - 1023;
  // m / 2^(biased−1023) in [1, 2), exact: rewrite the exponent field.
  u32[HI] = (hi & 0x800fffff) | (1023 << 20);
  m = f64[0];
  if (m > SQRT2) {
    m *= 0.5;
    e += 1;
  }
  // ln(m) = 2·atanh(s), s = (m−1)/(m+1), |s| ≤ 0.1716; the odd series converges to < 1e-17 after 12 terms.
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p = 2 / 25;
  p = p * s2 + 2 / 23;
  p = p * s2 + 2 / 21;
  p = p * s2 + 2 / 19;
  p = p * s2 + 2 / 17;
  p = p * s2 + 2 / 15;
  p = p * s2 + 2 / 13;
  p = p * s2 + 2 / 11;
  p = p * s2 + 2 / 9;
  p = p * s2 + 2 / 7;
  p = p * s2 + 2 / 5;
  p = p * s2 + 2 / 3;
  const lnm = s * 2 + s * s2 * p;
  return e * LN2_HI + (e * LN2_LO + lnm);
}

// two doubles and their words, for deterministicLogPair
const pair64 = new Float64Array(2);
const pair32 = new Uint32Array(pair64.buffer);
/** deterministicLogPair's results: ln(x), ln(y). */
export const logPair = new Float64Array(2);

/**
 * deterministicLog of x and of y (finite, > 0), into logPair: the very operations of two deterministicLog
 * calls, interleaved so that the two series' dependent multiply-adds overlap (the Gaussian sampler's fills
 * spend most of their time waiting on one series).
 */
export function deterministicLogPair(x: number, y: number): void {
  let e = 0;
  let m = x;
  let e2 = 0;
  let m2 = y;
  if (m < 2.2250738585072014e-308) {
    m *= 18014398509481984;
    e -= 54;
  }
  if (m2 < 2.2250738585072014e-308) {
    m2 *= 18014398509481984;
    e2 -= 54;
  }
  pair64[0] = m;
  pair64[1] = m2;
  const hi = pair32[HI];
  const hi2 = pair32[2 + HI];
  e += ((hi >>> 20) & 0x7ff) - 1023;
  e2 += ((hi2 >>> 20) & 0x7ff) - 1023;
  pair32[HI] = (hi & 0x800fffff) | (1023 << 20);
  pair32[2 + HI] = (hi2 & 0x800fffff) | (1023 << 20);
  m = pair64[0];
  m2 = pair64[1];
  if (m > SQRT2) {
    m *= 0.5;
    e += 1;
  }
  if (m2 > SQRT2) {
    m2 *= 0.5;
    e2 += 1;
  }
  const s = (m - 1) / (m + 1);
  const t = (m2 - 1) / (m2 + 1);
  const s2 = s * s;
  const t2 = t * t;
  let p = 2 / 25;
  let q = 2 / 25;
  p = p * s2 + 2 / 23;
  q = q * t2 + 2 / 23;
  p = p * s2 + 2 / 21;
  q = q * t2 + 2 / 21;
  p = p * s2 + 2 / 19;
  q = q * t2 + 2 / 19;
  p = p * s2 + 2 / 17;
  q = q * t2 + 2 / 17;
  p = p * s2 + 2 / 15;
  q = q * t2 + 2 / 15;
  p = p * s2 + 2 / 13;
  q = q * t2 + 2 / 13;
  p = p * s2 + 2 / 11;
  q = q * t2 + 2 / 11;
  p = p * s2 + 2 / 9;
  q = q * t2 + 2 / 9;
  p = p * s2 + 2 / 7;
  q = q * t2 + 2 / 7;
  p = p * s2 + 2 / 5;
  q = q * t2 + 2 / 5;
  p = p * s2 + 2 / 3;
  q = q * t2 + 2 / 3;
  logPair[0] = e * LN2_HI + (e * LN2_LO + (s * 2 + s * s2 * p));
  logPair[1] = e2 * LN2_HI + (e2 * LN2_LO + (t * 2 + t * t2 * q));
}
