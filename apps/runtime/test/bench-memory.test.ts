import { describe, expect, it } from 'vitest';

import {
  breakdownGrowthMiB,
  breakdownSeries,
  classifySmaps,
  memoryBreakdown,
  runsWithMajorGc,
  windowGrowth,
  windowRuns,
} from '../src/bench/memory-breakdown.js';
import type { MemoryBreakdown } from '../src/bench/memory-breakdown.js';

describe('windowGrowth (the memory bench’s rss_growth_pct)', () => {
  it('compares the medians of the windows around the two runs (runs are 1-based)', () => {
    expect(windowRuns(10, 2)).toEqual([8, 9, 10, 11, 12]);
    // runs 1..12: RSS 100 + run number; run 10's window is 8..12 → median 110; run 4's 2..6 → 104
    const samples = Array.from({ length: 12 }, (_, i) => 101 + i);
    expect(windowGrowth(samples, 4, 10, 2)).toEqual({ early: 104, late: 110, pct: 5.769 });
  });

  it('is not moved by one sample that lands on a peak', () => {
    const flat = Array.from({ length: 52 }, () => 300);
    const spiked = [...flat];
    spiked[49] = 340; // run 50 alone
    expect(windowGrowth(flat, 10, 50, 2).pct).toBe(0);
    expect(windowGrowth(spiked, 10, 50, 2).pct).toBe(0);
    // …while a level that holds for the window does move it
    const grown = flat.map((v, i) => (i >= 45 ? 330 : v));
    expect(windowGrowth(grown, 10, 50, 2)).toEqual({ early: 300, late: 330, pct: 10 });
  });

  it('refuses a window that runs past the samples', () => {
    const samples = Array.from({ length: 50 }, () => 1);
    expect(() => windowGrowth(samples, 10, 50, 2)).toThrow(/runs 48–52 are outside 1–50/);
    expect(() => windowGrowth(samples, 2, 10, 2)).toThrow(/runs 0–4/);
  });
});

const MiB = 1024 * 1024;

function mapping(start: bigint, size: bigint, perms: string, name: string, rssKiB: number): string {
  const hex = (v: bigint): string => v.toString(16).padStart(12, '0');
  return [
    `${hex(start)}-${hex(start + size)} ${perms} 00000000 00:00 0${name === '' ? '' : `                  ${name}`}`,
    `Size:           ${Number(size) / 1024} kB`,
    `Rss:            ${rssKiB} kB`,
    'Pss:            0 kB',
  ].join('\n');
}

describe('classifySmaps', () => {
  it('tells the main arena, thread arenas, other anonymous memory and files apart', () => {
    const arena = 0x7f0000000000n; // 64 MiB-aligned
    const text = [
      mapping(0x555555554000n, 0x1000n, 'r-xp', '/usr/bin/node', 400),
      mapping(0x555556000000n, 0x3000000n, 'rw-p', '[heap]', 30 * 1024),
      // a thread arena: 20 MiB used, the rest of its 64 MiB reserved (---p)
      mapping(arena, 0x1400000n, 'rw-p', '', 18 * 1024),
      mapping(arena + 0x1400000n, 0x2c00000n, '---p', '', 0),
      // a whole 64 MiB heap
      mapping(arena + 0x4000000n, 0x4000000n, 'rw-p', '', 60 * 1024),
      // anonymous but not an arena heap (V8 pages, mmapped chunks): not aligned, or aligned without the reserve
      mapping(arena + 0x8100000n, 0x200000n, 'rw-p', '', 2 * 1024),
      mapping(arena + 0xc000000n, 0x200000n, 'rw-p', '', 1024),
      mapping(0x7ffc00000000n, 0x21000n, 'rw-p', '[stack]', 132),
    ].join('\n');
    expect(classifySmaps(text)).toEqual({
      mainArenaBytes: 30 * MiB,
      threadArenaBytes: 78 * MiB,
      otherAnonBytes: 3 * MiB + 132 * 1024,
      fileBytes: 400 * 1024,
    });
  });
});

describe('memoryBreakdown', () => {
  it.runIf(process.platform === 'linux')('accounts for this process’s RSS from /proc', () => {
    const b = memoryBreakdown(5 * MiB);
    expect(b.outputCache).toBe(5);
    expect(b.rss).toBeGreaterThan(0);
    const parts = b.mainArena! + b.threadArenas! + b.otherAnon!;
    // the anonymous parts add up to RssAnon (read a moment apart: within a few MiB)
    expect(Math.abs(parts - b.rssAnon!)).toBeLessThan(8);
    expect(Math.abs(b.rssAnon! + b.rssFile! - b.rss)).toBeLessThan(8);
  });
});

describe('breakdownGrowthMiB', () => {
  it('gives each part’s move between the windows, null for a part that was not measured', () => {
    const sample = (run: number): MemoryBreakdown => ({
      rss: 300 + (run > 40 ? 20 : 0),
      heapUsed: 20,
      heapTotal: 40,
      external: 30,
      arrayBuffers: 25,
      rssAnon: 220 + (run > 40 ? 20 : 0),
      rssFile: 80,
      mainArena: 40 + (run > 40 ? 5 : 0),
      threadArenas: 100 + (run > 40 ? 15 : 0),
      otherAnon: 80,
      vipsCache: 0,
      vipsCacheItems: 100,
      outputCache: 52,
    });
    const samples = Array.from({ length: 52 }, (_, i) => sample(i + 1));
    samples[20] = { ...samples[20], rssFile: null };
    const growth = breakdownGrowthMiB(samples, 10, 50, 2);
    expect(growth).toMatchObject({ rss: 20, mainArena: 5, threadArenas: 15, heapUsed: 0, rssFile: null });
    expect(breakdownSeries(samples.slice(0, 2)).rss).toEqual([300, 300]);
  });
});

describe('runsWithMajorGc', () => {
  it('names the runs (1-based) during which the mark-compact count moved', () => {
    expect(runsWithMajorGc([0, 0, 1, 1, 3, 3, 4])).toEqual([3, 5, 7]);
    expect(runsWithMajorGc([2, 2])).toEqual([1]);
    expect(runsWithMajorGc([])).toEqual([]);
  });
});

describe('MajorGcCounter', () => {
  it('counts a mark-compact of this isolate', async () => {
    // a child with --expose-gc: the counter must see the full GCs it forces, and nothing before them
    const { execFileSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const module = fileURLToPath(new URL('../dist/bench/memory-breakdown.js', import.meta.url));
    const script = `
      const { MajorGcCounter } = await import(${JSON.stringify(module)});
      const counter = new MajorGcCounter();
      const before = counter.count();
      globalThis.gc(); globalThis.gc();
      await new Promise((r) => setTimeout(r, 50));
      console.log(JSON.stringify({ before, after: counter.count() }));
      counter.stop();`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    const { before, after } = JSON.parse(out) as { before: number; after: number };
    expect(before).toBe(0);
    expect(after).toBeGreaterThanOrEqual(2);
  });
});
