import { NodeInputError, Tensor } from '@diffedit/core';
import type { NodeWarningInit } from '@diffedit/core';

import type { DiffusionModel } from '../../models/diffusion-model.js';

/** The socket types of the prompt inputs (diffusers' `prompt` or `prompt_embeds`). */
export const PROMPT_SOCKET = ['TEXT', 'EMBEDDING'] as const;

/** What a prompt input may carry: TEXT, TEXT_LIST or an EMBEDDING. */
export type PromptValue = string | readonly string[] | Tensor;

/** Mean over the prompt axis: [n, L, D] → [1, L, D] (how the seed averages many captions into one prompt). */
export function meanOverPrompts(embeddings: Tensor): Tensor {
  const [n, ...rest] = embeddings.dims;
  const row = embeddings.size / n;
  const out = new Tensor([1, ...rest]);
  const acc = new Float64Array(row);
  for (let b = 0; b < n; b++) {
    const base = b * row;
    for (let i = 0; i < row; i++) acc[i] += embeddings.data[base + i];
  }
  for (let i = 0; i < row; i++) out.data[i] = acc[i] / n;
  return out;
}

/**
 * Turns a prompt input into one embedding [1, L, D] for `model`: a TEXT is encoded, a TEXT_LIST encoded and
 * averaged, an EMBEDDING checked against the model's text width. `undefined` means the empty prompt
 * (diffusers' default negative prompt, ""). Errors name the node and the field.
 */
export async function promptEmbedding(
  model: DiffusionModel,
  value: PromptValue | undefined,
  where: { node: string; field: string; signal?: AbortSignal; warn?: (warning: NodeWarningInit) => void },
): Promise<Tensor> {
  const { node, field, signal } = where;
  if (where.warn && (typeof value === 'string' || Array.isArray(value))) {
    for (const warning of promptWarnings(model, value as string | readonly string[], field))
      where.warn(warning);
  }
  if (value === undefined) return model.encodePrompt([''], { signal });
  if (typeof value === 'string') return model.encodePrompt([value], { signal });
  if (Array.isArray(value)) {
    const texts = value as readonly string[];
    if (texts.length === 0) throw new NodeInputError(field, `${node}: the prompt list for ${field} is empty`);
    return meanOverPrompts(await model.encodePrompt(texts, { signal }));
  }
  if (value instanceof Tensor) {
    const reference = await model.encodePrompt([''], { signal });
    const [, length, width] = reference.dims;
    if (value.rank !== 3 || value.dims[0] < 1 || value.dims[1] !== length || value.dims[2] !== width) {
      throw new NodeInputError(
        field,
        `${node}: embedding ${field} has shape [${value.dims.join(', ')}], but ${model.name} expects [1, ${length}, ${width}] ` +
          '(was it made with another model?)',
      );
    }
    return value.dims[0] === 1 ? value : meanOverPrompts(value);
  }
  throw new NodeInputError(field, `${node}: ${field} must be a TEXT, TEXT_LIST or EMBEDDING`);
}

/**
 * What is probably wrong with prompt texts, in the user's words: an empty prompt (a negative prompt may be
 * empty: that is diffusers' default), or one longer than the text encoder reads (CLIP: 77 tokens), whose end
 * is then silently cut off.
 */
export function promptWarnings(
  model: Pick<DiffusionModel, 'maxLength' | 'promptTokenCount'>,
  value: string | readonly string[],
  field: string,
): NodeWarningInit[] {
  const texts = typeof value === 'string' ? [value] : value;
  const warnings: NodeWarningInit[] = [];
  const negative = field.includes('negative');
  const the = field === 'prompt' || field === 'prompts' ? 'the prompt' : `the ${field} prompt`;
  const empty = texts.filter((t) => t.trim() === '').length;
  if (empty > 0 && !negative) {
    warnings.push({
      code: 'empty_prompt',
      field,
      message:
        texts.length === 1
          ? `${the} is empty: there is nothing to steer the edit, so the image will barely change`
          : `${empty} of the ${texts.length} prompts in ${field} are empty`,
    });
  }
  const long = texts
    .map((t) => ({ text: t, tokens: model.promptTokenCount(t) }))
    .filter((t) => t.tokens > model.maxLength);
  if (long.length > 0) {
    const { text, tokens } = long[0];
    const words = text.trim().split(/\s+/);
    const tail = words.slice(-4).join(' ');
    warnings.push({
      code: 'prompt_truncated',
      field,
      message:
        `${the} is ${tokens} tokens long, but the text encoder reads only ${model.maxLength}: ` +
        `the end ("…${tail.length > 60 ? tail.slice(-60) : tail}") is ignored; shorten it` +
        (long.length > 1 ? ` (${long.length} prompts are too long)` : ''),
    });
  }
  return warnings;
}
