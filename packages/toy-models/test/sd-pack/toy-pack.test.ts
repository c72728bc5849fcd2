import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchSdPackFiles } from '../../src/sd-pack.js';
import {
  BENCH_PACK_STAMP,
  ensureBenchSdPack,
  ensureToyPack,
  TOY_PACK_FOLDERS,
  TOY_PACK_STAMP,
  toyGeneratorFingerprint,
  writeToyPack,
} from '../../src/pack.js';

async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const path = join(e.parentPath, e.name);
      out.set(relative(dir, path), await readFile(path));
    }
  }
  return out;
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('writeToyPack / ensureToyPack', () => {
  it('writes toy-sd, toy-flan-t5 and toy-blip, small and with identical bytes every time', async () => {
    const [a, b] = [
      await mkdtemp(join(tmpdir(), 'toy-pack-a-')),
      await mkdtemp(join(tmpdir(), 'toy-pack-b-')),
    ];
    dirs.push(a, b);
    await writeToyPack(a);
    await writeToyPack(b);
    const [sa, sb] = [await snapshot(a), await snapshot(b)];
    expect([...sa.keys()].sort()).toEqual([...sb.keys()].sort());
    for (const [path, bytes] of sa) expect(bytes.equals(sb.get(path) ?? Buffer.alloc(0)), path).toBe(true);
    for (const folder of Object.values(TOY_PACK_FOLDERS)) {
      expect(
        [...sa.keys()].some((p) => p.startsWith(`${folder}/`) && p.endsWith('.onnx')),
        folder,
      ).toBe(true);
    }
    expect(sa.has(TOY_PACK_STAMP)).toBe(true);
    const total = [...sa.values()].reduce((n, buf) => n + buf.length, 0);
    expect(total).toBeLessThan(5_000_000);
  });

  it('ensureToyPack writes a missing or stale pack and leaves a current one alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'toy-pack-ensure-'));
    dirs.push(dir);
    expect(await ensureToyPack(dir)).toBe(true);
    const unet = join(dir, 'toy-sd', 'unet', 'model.onnx');
    const before = (await stat(unet)).mtimeMs;
    expect(await ensureToyPack(dir)).toBe(false);
    expect((await stat(unet)).mtimeMs).toBe(before);
    await writeFile(join(dir, TOY_PACK_STAMP), '{"toyPackVersion":0}');
    await writeFile(unet, 'damaged');
    expect(await ensureToyPack(dir)).toBe(true);
    expect((await readFile(unet)).length).toBeGreaterThan(1000);
  });

  it('checks a stamp of this generator against the files on disk, without generating the packs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'toy-pack-stamp-'));
    dirs.push(dir);
    await writeToyPack(dir);
    const stampPath = join(dir, TOY_PACK_STAMP);
    const stamp = JSON.parse(await readFile(stampPath, 'utf8')) as Record<string, unknown>;
    expect(stamp.generator).toBe(await toyGeneratorFingerprint());
    // the combined hash is not recomputed on the fast path: only the generator and each file's own hash count
    await writeFile(stampPath, JSON.stringify({ ...stamp, sha256: 'not-computed' }));
    expect(await ensureToyPack(dir)).toBe(false);
    // a file damaged on disk fails its hash: the pack is generated and the file written again
    const unet = join(dir, 'toy-sd', 'unet', 'model.onnx');
    const good = await readFile(unet);
    await writeFile(unet, 'damaged');
    expect(await ensureToyPack(dir)).toBe(true);
    expect((await readFile(unet)).equals(good)).toBe(true);
    // another generator's stamp over the same files: restamped, no pack file rewritten
    const before = (await stat(unet)).mtimeMs;
    await writeFile(stampPath, JSON.stringify({ ...stamp, generator: 'older' }));
    expect(await ensureToyPack(dir)).toBe(true);
    expect((await stat(unet)).mtimeMs).toBe(before);
    expect(JSON.parse(await readFile(stampPath, 'utf8'))).toEqual(stamp);
  });
});

describe('ensureBenchSdPack', () => {
  it('writes the bench pack once, then checks it against its stamp; a damaged file is written again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-pack-'));
    dirs.push(dir);
    const folder = join(dir, 'bench-sd');
    expect(await ensureBenchSdPack(folder)).toBe(true);
    const files = benchSdPackFiles();
    const onDisk = await snapshot(folder);
    expect([...onDisk.keys()].sort()).toEqual([...files.keys(), BENCH_PACK_STAMP].sort());
    for (const [path, bytes] of files) expect(onDisk.get(path)!.equals(Buffer.from(bytes))).toBe(true);
    const stampPath = join(folder, BENCH_PACK_STAMP);
    const stamp = JSON.parse(await readFile(stampPath, 'utf8')) as Record<string, unknown>;
    expect(stamp.generator).toBe(await toyGeneratorFingerprint());
    // the fast path does not generate: a stamp whose combined hash was never computed still passes
    await writeFile(stampPath, JSON.stringify({ ...stamp, sha256: 'not-computed' }));
    const unet = join(folder, 'unet', 'model.onnx');
    const before = (await stat(unet)).mtimeMs;
    expect(await ensureBenchSdPack(folder)).toBe(false);
    expect((await stat(unet)).mtimeMs).toBe(before);
    await writeFile(unet, 'damaged');
    expect(await ensureBenchSdPack(folder)).toBe(true);
    expect((await readFile(unet)).equals(Buffer.from(files.get('unet/model.onnx')!))).toBe(true);
  });
});
