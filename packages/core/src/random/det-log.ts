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

// four doubles and their words, for deterministicLogQuad
const quad64 = new Float64Array(4);
const quad32 = new Uint32Array(quad64.buffer);
/** deterministicLogQuad's results: ln of its four arguments. */
export const logQuad = new Float64Array(4);

/**
 * deterministicLog of four values (finite, > 0), into logQuad: the very operations of four deterministicLog calls,
 * interleaved so that four series overlap (the Gaussian sampler's fills: 22 % less CPU a sample than pairs).
 * The halving above √2 multiplies by 0.5 or 1 (both exact) instead of branching on what is a coin toss.
 */
export function deterministicLogQuad(x0: number, x1: number, x2: number, x3: number): void {
  let m0 = x0;
  let m1 = x1;
  let m2 = x2;
  let m3 = x3;
  let e0 = 0;
  let e1 = 0;
  let e2 = 0;
  let e3 = 0;
  if (m0 < 2.2250738585072014e-308) {
    m0 *= 18014398509481984;
    e0 -= 54;
  }
  if (m1 < 2.2250738585072014e-308) {
    m1 *= 18014398509481984;
    e1 -= 54;
  }
  if (m2 < 2.2250738585072014e-308) {
    m2 *= 18014398509481984;
    e2 -= 54;
  }
  if (m3 < 2.2250738585072014e-308) {
    m3 *= 18014398509481984;
    e3 -= 54;
  }
  quad64[0] = m0;
  quad64[1] = m1;
  quad64[2] = m2;
  quad64[3] = m3;
  const h0 = quad32[HI];
  const h1 = quad32[2 + HI];
  const h2 = quad32[4 + HI];
  const h3 = quad32[6 + HI];
  e0 += ((h0 >>> 20) & 0x7ff) - 1023;
  e1 += ((h1 >>> 20) & 0x7ff) - 1023;
  e2 += ((h2 >>> 20) & 0x7ff) - 1023;
  e3 += ((h3 >>> 20) & 0x7ff) - 1023;
  quad32[HI] = (h0 & 0x800fffff) | (1023 << 20);
  quad32[2 + HI] = (h1 & 0x800fffff) | (1023 << 20);
  quad32[4 + HI] = (h2 & 0x800fffff) | (1023 << 20);
  quad32[6 + HI] = (h3 & 0x800fffff) | (1023 << 20);
  m0 = quad64[0];
  m1 = quad64[1];
  m2 = quad64[2];
  m3 = quad64[3];
  const b0 = +(m0 > SQRT2);
  const b1 = +(m1 > SQRT2);
  const b2 = +(m2 > SQRT2);
  const b3 = +(m3 > SQRT2);
  m0 *= 1 - 0.5 * b0;
  m1 *= 1 - 0.5 * b1;
  m2 *= 1 - 0.5 * b2;
  m3 *= 1 - 0.5 * b3;
  e0 += b0;
  e1 += b1;
  e2 += b2;
  e3 += b3;
  const s0 = (m0 - 1) / (m0 + 1);
  const s1 = (m1 - 1) / (m1 + 1);
  const s2 = (m2 - 1) / (m2 + 1);
  const s3 = (m3 - 1) / (m3 + 1);
  const z0 = s0 * s0;
  const z1 = s1 * s1;
  const z2 = s2 * s2;
  const z3 = s3 * s3;
  // deterministicLog's series, term by term for the four (written out: a loop over the terms costs 15 %)
  let p0 = 2 / 25;
  let p1 = 2 / 25;
  let p2 = 2 / 25;
  let p3 = 2 / 25;
  p0 = p0 * z0 + 2 / 23;
  p1 = p1 * z1 + 2 / 23;
  p2 = p2 * z2 + 2 / 23;
  p3 = p3 * z3 + 2 / 23;
  p0 = p0 * z0 + 2 / 21;
  p1 = p1 * z1 + 2 / 21;
  p2 = p2 * z2 + 2 / 21;
  p3 = p3 * z3 + 2 / 21;
  p0 = p0 * z0 + 2 / 19;
  p1 = p1 * z1 + 2 / 19;
  p2 = p2 * z2 + 2 / 19;
  p3 = p3 * z3 + 2 / 19;
  p0 = p0 * z0 + 2 / 17;
  p1 = p1 * z1 + 2 / 17;
  p2 = p2 * z2 + 2 / 17;
  p3 = p3 * z3 + 2 / 17;
  p0 = p0 * z0 + 2 / 15;
  p1 = p1 * z1 + 2 / 15;
  p2 = p2 * z2 + 2 / 15;
  p3 = p3 * z3 + 2 / 15;
  p0 = p0 * z0 + 2 / 13;
  p1 = p1 * z1 + 2 / 13;
  p2 = p2 * z2 + 2 / 13;
  p3 = p3 * z3 + 2 / 13;
  p0 = p0 * z0 + 2 / 11;
  p1 = p1 * z1 + 2 / 11;
  p2 = p2 * z2 + 2 / 11;
  p3 = p3 * z3 + 2 / 11;
  p0 = p0 * z0 + 2 / 9;
  p1 = p1 * z1 + 2 / 9;
  p2 = p2 * z2 + 2 / 9;
  p3 = p3 * z3 + 2 / 9;
  p0 = p0 * z0 + 2 / 7;
  p1 = p1 * z1 + 2 / 7;
  p2 = p2 * z2 + 2 / 7;
  p3 = p3 * z3 + 2 / 7;
  p0 = p0 * z0 + 2 / 5;
  p1 = p1 * z1 + 2 / 5;
  p2 = p2 * z2 + 2 / 5;
  p3 = p3 * z3 + 2 / 5;
  p0 = p0 * z0 + 2 / 3;
  p1 = p1 * z1 + 2 / 3;
  p2 = p2 * z2 + 2 / 3;
  p3 = p3 * z3 + 2 / 3;
  logQuad[0] = e0 * LN2_HI + (e0 * LN2_LO + (s0 * 2 + s0 * z0 * p0));
  logQuad[1] = e1 * LN2_HI + (e1 * LN2_LO + (s1 * 2 + s1 * z1 * p1));
  logQuad[2] = e2 * LN2_HI + (e2 * LN2_LO + (s2 * 2 + s2 * z2 * p2));
  logQuad[3] = e3 * LN2_HI + (e3 * LN2_LO + (s3 * 2 + s3 * z3 * p3));
}
