/** SplitMix64 constants (Steele, Lea & Flood 2014), exact 64-bit arithmetic through BigInt. */
const MASK64 = (1n << 64n) - 1n;
export const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

/** The SplitMix64 output finaliser (a bijective 64-bit mixer). */
export function mix64(x: bigint): bigint {
  let z = x & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** `count` consecutive SplitMix64 outputs starting from state `key`. */
export function splitmix64(key: bigint, count: number): bigint[] {
  const out: bigint[] = [];
  let x = key & MASK64;
  for (let i = 0; i < count; i++) {
    x = (x + GOLDEN_GAMMA) & MASK64;
    out.push(mix64(x));
  }
  return out;
}

/** FNV-1a over the UTF-8 bytes of a string, 64-bit: turns a stream name into a number. */
export function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & MASK64;
  return h;
}

export function toUint64(x: bigint): bigint {
  return x & MASK64;
}
