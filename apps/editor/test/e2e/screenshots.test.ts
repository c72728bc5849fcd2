import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';

import { readPngText } from '../../src/util/png-text.js';
import { REPO } from './harness.js';

const out = mkdtempSync(join(tmpdir(), 'diffedit-readme-shots-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run screenshots', { timeout: 300_000 }, () => {
  it('writes the README pictures: the editor after a run and the grid that run saved', async () => {
    await promisify(execFile)(
      process.execPath,
      [join(REPO, 'apps/editor/scripts/readme-screenshots.mjs'), out],
      { cwd: REPO },
    );
    const editor = await sharp(join(out, 'editor.png')).metadata();
    expect([editor.width, editor.height]).toEqual([1800, 900]);
    const grid = readFileSync(join(out, 'diffedit-grid.png'));
    const { width, height } = await sharp(grid).metadata();
    expect(width).toBe(3 * height!);
    const workflow = JSON.parse(readPngText(new Uint8Array(grid)).workflow) as { name: string };
    expect(workflow.name).toBe('DiffEdit with prompts');
  });
});
