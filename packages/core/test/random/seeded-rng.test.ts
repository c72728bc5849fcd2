import { describe, expect, it } from 'vitest';
import { SeededRng, deterministicLog } from '@diffedit/core';

// Committed first values, cross-checked with an independent Python transcription of the algorithm
// (xoshiro128** seeded by SplitMix64, polar method with math.log).
describe('SeededRng committed values', () => {
  it('first 32-bit words for seed 42 and 0', () => {
    const r = new SeededRng(42);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([
      1776835114, 4165204688, 17111135, 2317295270,
    ]);
    const z = new SeededRng(0);
    expect([z.nextUint32(), z.nextUint32(), z.nextUint32()]).toEqual([3737715805, 2584255861, 2876756834]);
  });
  it('first uniforms (53-bit) for seed 42', () => {
    const r = new SeededRng(42);
    expect([r.uniform(), r.uniform(), r.uniform()]).toEqual([
      0.4137016681565887, 0.003983993377814743, 0.6500837027638867,
    ]);
  });
  it('first normals for seed 42 (to 1e-15: Python used the platform log)', () => {
    const r = new SeededRng(42);
    const expected = [
      1.0873020675225118, 1.3373747636261168, 0.7409935464462171, 0.5294255135865079, 0.42664902821655437,
      -0.46545467525853274,
    ];
    for (const e of expected) expect(Math.abs(r.normal() - e)).toBeLessThan(1e-15);
  });
  it('fork(3) of seed 42', () => {
    const r = new SeededRng(42).fork(3);
    for (const e of [-0.37551020820143094, 0.5855685802425675, -1.2208205449473735]) {
      expect(Math.abs(r.normal() - e)).toBeLessThan(1e-15);
    }
  });
  it('bigint seeds equal number seeds', () => {
    expect(new SeededRng(123n).nextUint32()).toBe(new SeededRng(123).nextUint32());
  });
});

describe('SeededRng behaviour', () => {
  it('same seed → same sequence; different seeds differ', () => {
    const a = new SeededRng(2024).randn([1000]);
    const b = new SeededRng(2024).randn([1000]);
    const c = new SeededRng(2025).randn([1000]);
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
  });
  it('standard normal over 1e5 draws: mean ≈ 0, variance ≈ 1, symmetric tails', () => {
    const r = new SeededRng(1);
    const x = r.fillNormal(new Float64Array(100_000));
    let m = 0;
    for (const v of x) m += v;
    m /= x.length;
    let v2 = 0;
    let over2 = 0;
    for (const v of x) {
      v2 += (v - m) ** 2;
      if (Math.abs(v) > 1.96) over2++;
    }
    v2 /= x.length - 1;
    expect(Math.abs(m)).toBeLessThan(0.01); // 3.2 standard errors
    expect(Math.abs(v2 - 1)).toBeLessThan(0.015);
    expect(Math.abs(over2 / x.length - 0.05)).toBeLessThan(0.004);
  });
  it('uniform over 1e5 draws: mean ≈ 0.5, in [0, 1)', () => {
    const r = new SeededRng(5);
    let m = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = r.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      m += u;
    }
    expect(outside).toBe(0);
    expect(Math.abs(m / 100_000 - 0.5)).toBeLessThan(0.003);
  });
  it('fork gives reproducible streams, independent of parent draws and of each other', () => {
    const p = new SeededRng(9);
    const f1 = p.fork(1).randn([64]);
    p.randn([1000]);
    expect(p.fork(1).randn([64]).data).toEqual(f1.data);
    expect(p.fork(2).randn([64]).data).not.toEqual(f1.data);
    expect(p.fork('noise').randn([8]).data).toEqual(new SeededRng(9).fork('noise').randn([8]).data);
    // Weak independence check: correlation of two sibling streams is small.
    const a = p.fork(10).fillNormal(new Float64Array(20_000));
    const b = p.fork(11).fillNormal(new Float64Array(20_000));
    let dot = 0;
    for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
    expect(Math.abs(dot / a.length)).toBeLessThan(0.03);
  });
  it('randint is in range and covers it', () => {
    const r = new SeededRng(3);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 6000; i++) counts[r.randint(2, 8) - 2]++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    expect(() => r.randint(3, 3)).toThrow(/lo < hi/);
  });
  it('snapshot / fromSnapshot / clone continue the same sequence (including the cached spare normal)', () => {
    const r = new SeededRng(77);
    r.normal();
    const snap = JSON.parse(JSON.stringify(r.snapshot()));
    const c = r.clone();
    const restored = SeededRng.fromSnapshot(snap);
    const next = [r.normal(), r.normal(), r.normal()];
    expect([c.normal(), c.normal(), c.normal()]).toEqual(next);
    expect([restored.normal(), restored.normal(), restored.normal()]).toEqual(next);
  });
  it('rejects bad seeds and stream ids', () => {
    expect(() => new SeededRng(-1)).toThrow(/non-negative/);
    expect(() => new SeededRng(1.5)).toThrow(/safe integer/);
    expect(() => new SeededRng(1).fork(-2)).toThrow(/stream/);
  });
});

describe('deterministicLog', () => {
  it('agrees with Math.log to 2 ulps over a wide range, including subnormals', () => {
    const r = new SeededRng(11);
    let worst = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = r.uniform() * 2 ** (Math.floor(r.uniform() * 200) - 150);
      if (x === 0) continue;
      const b = Math.log(x);
      if (Math.abs(deterministicLog(x) - b) > Math.abs(b) * 4.5e-16) worst = Math.max(worst, x);
    }
    expect(worst).toBe(0);
    expect(deterministicLog(1)).toBe(0);
    expect(Math.abs(deterministicLog(5e-324) - Math.log(5e-324))).toBeLessThan(1e-12);
    expect(deterministicLog(0)).toBe(-Infinity);
    expect(deterministicLog(-1)).toBeNaN();
  });
});

describe('SeededRng.fillNormal (state in locals)', () => {
  // the reference: one normal() call per element, as fillNormal was written before
  const byCalls = (rng: SeededRng, out: Float64Array | Float32Array, mean = 0, std = 1): void => {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * rng.normal();
  };
  it.each([
    [0, 1, 0],
    [1, 1, 0],
    [7, 0, 0],
    [7, 1, 0],
    [4096, 0, 1],
    [16_383, 1, 2],
  ])('gives the same bits as normal() calls (length %i, %i draws before, seed %i)', (n, before, seed) => {
    const a = new SeededRng(seed).fork('noise');
    const b = new SeededRng(seed).fork('noise');
    for (let i = 0; i < before; i++) expect(a.normal()).toBe(b.normal()); // leaves a spare when odd
    const fast = a.fillNormal(new Float64Array(n));
    const slow = new Float64Array(n);
    byCalls(b, slow);
    expect(Buffer.from(fast.buffer)).toEqual(Buffer.from(slow.buffer));
    // and the generator goes on exactly where the calls leave it (spare included)
    expect(a.snapshot()).toEqual(b.snapshot());
    expect([a.normal(), a.normal(), a.nextUint32()]).toEqual([b.normal(), b.normal(), b.nextUint32()]);
  });
  it('the same float32 values and mean/std arithmetic as the calls', () => {
    const a = new SeededRng(9);
    const b = new SeededRng(9);
    const fast = a.fillNormal(new Float32Array(1001), 0.25, 3);
    const slow = new Float32Array(1001);
    byCalls(b, slow, 0.25, 3);
    expect(Buffer.from(fast.buffer)).toEqual(Buffer.from(slow.buffer));
  });
});
