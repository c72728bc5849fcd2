import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { InProcessBackend } from '../../src/models/in-process-backend.js';
import { SessionPool } from '../../src/models/session-pool.js';
import { T5Model } from '../../src/models/t5-model.js';
import { referenceGreedy, T5_PIECES, writeTinyT5 } from './fixtures/tiny-t5.js';

const root = mkdtempSync(join(tmpdir(), 'diffedit-t5-'));
const pool = new SessionPool(new InProcessBackend(), { providers: ['cpu'] });
afterAll(async () => {
  await pool.close();
  rmSync(root, { recursive: true, force: true });
});

const both = writeTinyT5(join(root, 'both'), { plain: true, merged: true });
const mergedOnly = writeTinyT5(join(root, 'merged-only'), {
  plain: false,
  merged: true,
  onnxSubfolder: true,
});
const instruction = 'write a caption about an apple';

function piecesToText(ids: readonly number[]): string {
  return ids
    .filter((i) => i > 2)
    .map((i) => T5_PIECES[i].replace('▁', ' '))
    .join('')
    .trim();
}

describe('T5Model', () => {
  it('tokenizes with the Unigram tokenizer.json and appends </s>', async () => {
    const model = await T5Model.load(both, pool, { decoder: 'plain' });
    const ids = model.tokenizer.encode(instruction);
    expect(ids.map((i) => T5_PIECES[i])).toEqual([
      '▁write',
      '▁a',
      '▁caption',
      '▁about',
      '▁an',
      '▁apple',
      '</s>',
    ]);
  });

  it('greedy decoding with the plain decoder follows the reference language model', async () => {
    const model = await T5Model.load(both, pool, { decoder: 'plain' });
    expect(model.decoderKind).toBe('plain');
    const ids = model.tokenizer.encode(instruction);
    const expected = piecesToText(referenceGreedy(ids, 128));
    expect(expected).toMatch(/apple/);
    expect(await model.generate(instruction)).toEqual([expected]);
  });

  it('the merged decoder (cache, onnx/ subfolder) gives the same greedy and sampled generations', async () => {
    const plain = await T5Model.load(both, pool, { decoder: 'plain' });
    const merged = await T5Model.load(mergedOnly, pool);
    expect(merged.decoderKind).toBe('merged');
    expect(await merged.generate(instruction)).toEqual(await plain.generate(instruction));
    const opts = { doSample: true, numReturnSequences: 8, seed: 7, maxNewTokens: 20 };
    expect(await merged.generate(instruction, opts)).toEqual(await plain.generate(instruction, opts));
  });

  it('samples reproducibly per seed, with varied captions', async () => {
    const model = await T5Model.load(both, pool);
    const a = await model.generate(instruction, { doSample: true, seed: 42 });
    const b = await model.generate(instruction, { doSample: true, seed: 42 });
    const c = await model.generate(instruction, { doSample: true, seed: 43 });
    expect(a).toHaveLength(16);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(new Set(a).size).toBeGreaterThanOrEqual(4);
    expect(a.filter((caption) => caption.includes('apple')).length).toBeGreaterThan(8);
  });

  it('top_k = 1 sampling equals greedy decoding; maxNewTokens bounds the length', async () => {
    const model = await T5Model.load(both, pool);
    const greedy = await model.generate(instruction);
    const topOne = await model.generate(instruction, {
      doSample: true,
      topK: 1,
      numReturnSequences: 3,
      seed: 1,
    });
    expect(topOne).toEqual([greedy[0], greedy[0], greedy[0]]);
    const short = await model.generate(instruction, { maxNewTokens: 2 });
    expect(short[0].split(' ')).toHaveLength(2);
  });

  it('truncates a long instruction to model_max_length, keeping </s>', async () => {
    const model = await T5Model.load(both, pool, { decoder: 'plain' });
    const encoder = await pool.get(join(both, 'encoder_model.onnx'));
    const spy = vi.spyOn(encoder, 'run');
    await model.generate(Array(600).fill('apple').join(' '), { maxNewTokens: 1 });
    const feeds = spy.mock.calls[0][0];
    spy.mockRestore();
    expect(feeds.input_ids.dims).toEqual([1, 512]);
    expect(Number(feeds.input_ids.data[511])).toBe(1);
    expect(Number(feeds.input_ids.data[510])).toBe(T5_PIECES.indexOf('▁apple'));
  });

  it('rejects several sequences without sampling, and stops on an aborted signal', async () => {
    const model = await T5Model.load(both, pool);
    await expect(model.generate(instruction, { numReturnSequences: 2 })).rejects.toThrow(/doSample/);
    const controller = new AbortController();
    controller.abort();
    await expect(model.generate(instruction, { signal: controller.signal })).rejects.toThrow(/abort/i);
  });
});
