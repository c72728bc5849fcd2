import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';

import sharp from 'sharp';

import { bytesToMiB, round3, summarize } from './stats.js';

/**
 * Where the process's memory is at one moment, in MiB. The memory bench takes one after every run, at the same
 * point (as soon as the run's result is back), so that the series say which part moves between runs.
 */
export interface MemoryBreakdown {
  rss: number;
  /** The main isolate's V8 heap (process.memoryUsage; the model worker's isolate is not in these four). */
  heapUsed: number;
  heapTotal: number;
  /** Memory V8 is told about outside its heap (ArrayBuffers included), and the ArrayBuffers alone. */
  external: number;
  arrayBuffers: number;
  /** Resident anonymous and file-backed memory (/proc/self/status; null off Linux). */
  rssAnon: number | null;
  rssFile: number | null;
  /** glibc's main malloc arena ([heap], grown with brk): the main thread's native allocations. */
  mainArena: number | null;
  /** glibc's per-thread arenas (64 MiB-aligned heaps): model worker, onnxruntime's and libvips' threads. */
  threadArenas: number | null;
  /** Other anonymous memory: every isolate's V8 heap, malloc's mmapped chunks, thread stacks. */
  otherAnon: number | null;
  /** libvips' operation cache as sharp reports it (MiB, rounded by libvips) and its entries. */
  vipsCache: number;
  vipsCacheItems: number;
  /** The output cache's exact byte count. */
  outputCache: number;
}

export const BREAKDOWN_KEYS = [
  'rss',
  'heapUsed',
  'heapTotal',
  'external',
  'arrayBuffers',
  'rssAnon',
  'rssFile',
  'mainArena',
  'threadArenas',
  'otherAnon',
  'vipsCache',
  'vipsCacheItems',
  'outputCache',
] as const satisfies readonly (keyof MemoryBreakdown)[];

/** glibc's HEAP_MAX_SIZE on 64-bit: a thread arena's heaps are mappings of this size, aligned to it. */
const ARENA_HEAP_BYTES = 64n * 1024n * 1024n;

export interface SmapsClasses {
  mainArenaBytes: number;
  threadArenaBytes: number;
  otherAnonBytes: number;
  fileBytes: number;
}

/**
 * Resident bytes of /proc/self/smaps by kind of mapping. A thread arena's heap is an anonymous mapping that
 * starts on a 64 MiB boundary and, with the inaccessible reserve that follows it, spans exactly 64 MiB.
 */
export function classifySmaps(text: string): SmapsClasses {
  const out: SmapsClasses = { mainArenaBytes: 0, threadArenaBytes: 0, otherAnonBytes: 0, fileBytes: 0 };
  interface Mapping {
    start: bigint;
    end: bigint;
    perms: string;
    name: string;
    rss: number;
  }
  const maps: Mapping[] = [];
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head !== null) {
      maps.push({
        start: BigInt(`0x${head[1]}`),
        end: BigInt(`0x${head[2]}`),
        perms: head[3],
        name: head[4].trim(),
        rss: 0,
      });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null && maps.length > 0) maps[maps.length - 1].rss = Number(rss[1]) * 1024;
  }
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i];
    if (m.name === '[heap]') out.mainArenaBytes += m.rss;
    else if (m.name.startsWith('/') || m.name.startsWith('[v')) out.fileBytes += m.rss;
    else if (m.name === '' && isArenaHeap(m, maps[i + 1])) out.threadArenaBytes += m.rss;
    else out.otherAnonBytes += m.rss; // unnamed, [stack], [anon:…]
  }
  return out;
}

function isArenaHeap(
  m: { start: bigint; end: bigint; perms: string },
  next: { start: bigint; end: bigint; perms: string; name: string } | undefined,
): boolean {
  if (m.start % ARENA_HEAP_BYTES !== 0n || !m.perms.startsWith('rw')) return false;
  if (m.end - m.start === ARENA_HEAP_BYTES) return true;
  return (
    next !== undefined &&
    next.name === '' &&
    next.start === m.end &&
    next.perms.startsWith('---') &&
    next.end - m.start === ARENA_HEAP_BYTES
  );
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function statusKiB(status: string | undefined, key: string): number | null {
  const m = status === undefined ? null : new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m === null ? null : bytesToMiB(Number(m[1]) * 1024);
}

/** Takes a breakdown now; RSS is read first, before the /proc reads allocate anything. */
export function memoryBreakdown(outputCacheBytes: number): MemoryBreakdown {
  const usage = process.memoryUsage();
  const status = readProc('/proc/self/status');
  const smapsText = readProc('/proc/self/smaps');
  const smaps = smapsText === undefined ? undefined : classifySmaps(smapsText);
  const vips = sharp.cache();
  const mib = (bytes: number | undefined): number | null => (bytes === undefined ? null : bytesToMiB(bytes));
  return {
    rss: bytesToMiB(usage.rss),
    heapUsed: bytesToMiB(usage.heapUsed),
    heapTotal: bytesToMiB(usage.heapTotal),
    external: bytesToMiB(usage.external),
    arrayBuffers: bytesToMiB(usage.arrayBuffers),
    rssAnon: statusKiB(status, 'RssAnon'),
    rssFile: statusKiB(status, 'RssFile'),
    mainArena: mib(smaps?.mainArenaBytes),
    threadArenas: mib(smaps?.threadArenaBytes),
    otherAnon: mib(smaps?.otherAnonBytes),
    vipsCache: vips.memory.current,
    vipsCacheItems: vips.items.current,
    outputCache: bytesToMiB(outputCacheBytes),
  };
}

/** Runs (1-based) whose samples make the window around `run`: run − halfWidth … run + halfWidth. */
export function windowRuns(run: number, halfWidth: number): number[] {
  return Array.from({ length: 2 * halfWidth + 1 }, (_, i) => run - halfWidth + i);
}

export interface WindowGrowth {
  /** Median of the samples in the window around the early run and around the late one. */
  early: number;
  late: number;
  /** (late − early) ÷ early, in percent. */
  pct: number;
}

/**
 * Growth between two runs, each taken as the median of the samples of a window of runs around it (samples[i] is
 * run i + 1's). One sample can land on a peak of garbage not yet collected; the median of a window cannot.
 */
export function windowGrowth(
  samples: readonly number[],
  earlyRun: number,
  lateRun: number,
  halfWidth: number,
): WindowGrowth {
  const pick = (run: number): number => {
    const runs = windowRuns(run, halfWidth);
    if (runs[0] < 1 || runs.at(-1)! > samples.length)
      throw new RangeError(`windowGrowth: runs ${runs[0]}–${runs.at(-1)} are outside 1–${samples.length}`);
    return summarize(runs.map((r) => samples[r - 1])).median;
  };
  const early = pick(earlyRun);
  const late = pick(lateRun);
  return { early, late, pct: round3(((late - early) / early) * 100) };
}

/** The breakdowns as one array per key (null where a key was not available). */
export function breakdownSeries(
  samples: readonly MemoryBreakdown[],
): Record<(typeof BREAKDOWN_KEYS)[number], (number | null)[]> {
  return Object.fromEntries(BREAKDOWN_KEYS.map((k) => [k, samples.map((s) => s[k])])) as Record<
    (typeof BREAKDOWN_KEYS)[number],
    (number | null)[]
  >;
}

/** Per key: how many MiB the window median moved between the early and the late run (null when unknown). */
export function breakdownGrowthMiB(
  samples: readonly MemoryBreakdown[],
  earlyRun: number,
  lateRun: number,
  halfWidth: number,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const key of BREAKDOWN_KEYS) {
    const series = samples.map((s) => s[key]);
    if (series.some((v) => v === null)) {
      out[key] = null;
      continue;
    }
    const g = windowGrowth(series as number[], earlyRun, lateRun, halfWidth);
    out[key] = round3(g.late - g.early);
  }
  return out;
}

/**
 * Counts this isolate's mark-compacts (major GCs) as Node's performance timeline reports them. The memory
 * bench records the count after every run: garbage ArrayBuffers (the cache's evicted entries among them) hold
 * malloc memory until a mark-compact frees them, so where these fall explains much of the spread of
 * rss_growth_pct (docs/performance.md, Memory). The model worker's isolate is not seen from here.
 */
export class MajorGcCounter {
  private majors = 0;
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (isMajorGc(entry)) this.majors++;
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Mark-compacts reported so far (entries are delivered asynchronously, after the collection). */
  count(): number {
    for (const entry of this.observer.takeRecords()) if (isMajorGc(entry)) this.majors++;
    return this.majors;
  }

  stop(): void {
    this.observer.disconnect();
  }
}

/** A 'gc' entry's detail.kind (Node ≥ 16) says which collection it was. */
function isMajorGc(entry: PerformanceEntry): boolean {
  const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
  return detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
}

/** The runs (1-based) after which the count had moved: those that saw at least one mark-compact. */
export function runsWithMajorGc(countAfterRun: readonly number[]): number[] {
  const runs: number[] = [];
  for (let i = 0; i < countAfterRun.length; i++) {
    if (countAfterRun[i] > (i === 0 ? 0 : countAfterRun[i - 1])) runs.push(i + 1);
  }
  return runs;
}
