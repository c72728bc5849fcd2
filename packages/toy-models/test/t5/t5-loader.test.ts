import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBackend, SessionPool, T5Model } from '@diffedit/nodes';
import { toyT5PackFiles, writePackFiles } from '../../src/index.js';
import { instructionFor, toyTextConcepts } from './t5-test-harness.js';

// The toy pack through the product's own loader and generate loop (PromptT5's settings).
let dir: string;
const pool = new SessionPool(new InProcessBackend(), { providers: ['cpu'] });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toy-t5-loader-'));
  await writePackFiles(dir, toyT5PackFiles());
});
afterAll(async () => {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
});

describe('toy Flan-T5 through T5Model', () => {
  it('loads the merged decoder by default and the plain one on request', async () => {
    expect((await T5Model.load(dir, pool)).decoderKind).toBe('merged');
    expect((await T5Model.load(dir, pool, { decoder: 'plain' })).decoderKind).toBe('plain');
  });

  it.each(['red apple', 'green pear', 'orange'])(
    'PromptT5 settings give 16 captions naming "%s", ≥ 4 distinct, the same with either decoder',
    async (concept) => {
      const merged = await T5Model.load(dir, pool);
      const plain = await T5Model.load(dir, pool, { decoder: 'plain' });
      const options = { doSample: true, temperature: 0.8, topK: 10, numReturnSequences: 16, seed: 11 };
      const captions = await merged.generate(instructionFor(concept), options);
      expect(captions).toHaveLength(16);
      expect(new Set(captions).size).toBeGreaterThanOrEqual(4);
      for (const caption of captions) expect(caption).toMatch(new RegExp(`\\b${concept}\\b`));
      expect(await plain.generate(instructionFor(concept), options)).toEqual(captions);
    },
  );

  it('greedy decoding gives one caption, identical with either decoder', async () => {
    const merged = await T5Model.load(dir, pool);
    const plain = await T5Model.load(dir, pool, { decoder: 'plain' });
    const greedy = await merged.generate(instructionFor('red apple'));
    expect(greedy).toEqual(['a red apple in a bowl']);
    expect(await plain.generate(instructionFor('red apple'))).toEqual(greedy);
  });
});

describe('toy Flan-T5 captions keep their concept for the toy text encoder', () => {
  it.each(['red apple', 'green pear', 'banana', 'purple ball', 'orange'])(
    'every sampled caption for "%s" has the concept colour of the concept itself',
    async (concept) => {
      const model = await T5Model.load(dir, pool);
      const captions = await model.generate(instructionFor(concept), {
        doSample: true,
        numReturnSequences: 16,
        seed: 5,
      });
      const [expected, ...got] = await toyTextConcepts([`a ${concept}`, ...captions]);
      expect(expected).toBeDefined();
      got.forEach((colour, i) => expect(colour, captions[i]).toEqual(expected));
    },
  );

  it('would notice a caption that brings in another colour or object (control)', async () => {
    const [apple, mixed, onBackground] = await toyTextConcepts([
      'a red apple',
      'a red apple next to a green pear',
      'a red apple on a green background',
    ]);
    expect(mixed).not.toEqual(apple);
    expect(onBackground).toEqual(apple);
  });
});
