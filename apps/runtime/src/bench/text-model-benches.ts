import { dirname, join } from 'node:path';

import { readFile } from 'node:fs/promises';

import {
  decodeImage,
  imageBatchFromRgb,
  T5_CAPTION_INSTRUCTION,
  T5_SAMPLING_DEFAULTS,
} from '@diffedit/nodes';
import { TOY_PACK_FOLDERS } from '@diffedit/toy-models';

import { timeRepetitions } from './measure.js';
import type { BenchContext } from './resources.js';
import type { BenchOutcome } from './suite.js';

const CONCEPT = 'apple';

/** Benchmark 6a: PromptT5's sampling at its defaults (16 captions, temperature 0.8, top-k 10). */
export async function t5Sampling(ctx: BenchContext): Promise<BenchOutcome> {
  const model = await ctx.resources.manager('worker').loadT5(TOY_PACK_FOLDERS.t5);
  const instruction = T5_CAPTION_INSTRUCTION.replaceAll('{a}', CONCEPT);
  const count = T5_SAMPLING_DEFAULTS.numReturnSequences;
  let captions: string[] = [];
  // the same seed every time: each repetition decodes the same tokens, so the times compare
  const generate = async (): Promise<void> => {
    captions = await model.generate(instruction, { doSample: true, numReturnSequences: count, seed: 0 });
  };
  const samples = await timeRepetitions(ctx.quick ? 1 : 3, generate, { warmup: 1 });
  return {
    params: {
      model: TOY_PACK_FOLDERS.t5,
      instruction,
      numReturnSequences: count,
      temperature: T5_SAMPLING_DEFAULTS.temperature,
      topK: T5_SAMPLING_DEFAULTS.topK,
      maxNewTokens: T5_SAMPLING_DEFAULTS.maxNewTokens,
      seed: 0,
    },
    samples,
    perRepetition: { captions: captions.length },
    details: {
      example: captions[0] ?? '',
      meanCaptionChars: captions.reduce((n, c) => n + c.length, 0) / Math.max(1, captions.length),
    },
    checks: [
      {
        name: `${count} captions`,
        ok: captions.length === count && captions.every((c) => c.trim() !== ''),
        detail: `${captions.length} captions, ${captions.filter((c) => c.trim() === '').length} empty`,
      },
    ],
  };
}

/** The demo image the workflow edits (its LoadImage param, resolved like the runtime does). */
async function demoImagePath(ctx: BenchContext): Promise<string> {
  const document = JSON.parse(await readFile(ctx.workflowPath, 'utf8')) as {
    nodes?: { type?: string; params?: { image?: unknown } }[];
  };
  const image = document.nodes?.find((n) => n.type === 'LoadImage')?.params?.image;
  if (typeof image !== 'string')
    throw new Error(`${ctx.workflowPath}: no LoadImage node with an image param`);
  return join(dirname(ctx.workflowPath), image);
}

/** Benchmark 6b: one BLIP caption of the 512×512 demo image (resize to 384², vision model, greedy decoding). */
export async function blipCaption(ctx: BenchContext): Promise<BenchOutcome> {
  const model = await ctx.resources.manager('worker').loadBlip(TOY_PACK_FOLDERS.blip);
  const path = await demoImagePath(ctx);
  const rgb = await decodeImage(path);
  const image = imageBatchFromRgb([rgb]);
  let caption = '';
  const samples = await timeRepetitions(
    ctx.quick ? 2 : 5,
    async () => {
      caption = await model.caption(image);
    },
    { warmup: 1 },
  );
  return {
    params: { model: TOY_PACK_FOLDERS.blip, image: path, size: [rgb.width, rgb.height] },
    samples,
    perRepetition: { captions: 1 },
    details: { caption },
    checks: [{ name: 'a caption', ok: caption.trim() !== '', detail: JSON.stringify(caption) }],
  };
}
