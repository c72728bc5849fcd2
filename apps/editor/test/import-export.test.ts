import { asciiJson, encodePngWithText } from '@diffedit/nodes';
import type { RgbImage } from '@diffedit/nodes';
import { describe, expect, it } from 'vitest';

import { exportJson, importFileBytes, importJsonText } from '../src/util/import-export.js';
import { readPngText } from '../src/util/png-text.js';
import { shippedWorkflow } from './fixtures.js';

const rgb: RgbImage = { width: 2, height: 2, data: new Float32Array(12).fill(0.5) };

describe('import / export', () => {
  it('exports JSON that imports back to the same workflow', () => {
    const workflow = shippedWorkflow();
    const result = importJsonText(exportJson(workflow));
    expect(result).toEqual({ ok: true, workflow });
  });

  it('restores the workflow a SaveImage PNG carries (non-ASCII text survives the escaping)', async () => {
    const workflow = { ...shippedWorkflow(), name: 'poire verte — 绿梨' };
    const png = await encodePngWithText(rgb, { workflow: asciiJson(workflow), inputs: '{}' });
    expect(Object.keys(readPngText(new Uint8Array(png)))).toEqual(['workflow', 'inputs']);
    const result = importFileBytes('edit.png', new Uint8Array(png));
    expect(result.ok && result.workflow).toEqual(workflow);
  });

  it('explains what is wrong with a file that is not a workflow', async () => {
    expect(importFileBytes('notes.json', new TextEncoder().encode('{"hello": 1}'))).toMatchObject({
      ok: false,
      message: expect.stringContaining('notes.json: not a DiffEdit workflow'),
    });
    expect(importFileBytes('x.json', new TextEncoder().encode('{oops'))).toMatchObject({
      ok: false,
      message: expect.stringContaining('not JSON'),
    });
    const plain = await encodePngWithText(rgb);
    expect(importFileBytes('photo.png', new Uint8Array(plain))).toEqual({
      ok: false,
      message: 'photo.png carries no workflow (not saved by SaveImage)',
    });
    const truncated = new Uint8Array(plain).subarray(0, 40);
    expect(importFileBytes('cut2.png', new Uint8Array(plain).subarray(0, 30))).toEqual({
      ok: false,
      message: 'cut2.png: truncated PNG chunk',
    });
    expect(importFileBytes('cut.png', truncated)).toEqual({
      ok: false,
      message: 'cut.png: truncated PNG (no IEND chunk)',
    });
  });
});
