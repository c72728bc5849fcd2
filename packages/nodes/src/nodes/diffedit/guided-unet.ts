import type { NodeWarningInit } from '@diffedit/core';
import { guidanceEmbeddings, usesClassifierFreeGuidance } from '@diffedit/core';
import type { Tensor } from '@diffedit/core';

import type { DiffusionModel } from '../../models/diffusion-model.js';
import { promptEmbedding } from './prompt-embeddings.js';
import type { PromptValue } from './prompt-embeddings.js';

/**
 * The text conditioning of one guided UNet call (invert and __call__, spec §6/§7): `[negative; positive]`
 * with CFG, the positive alone without. Errors name the node and the `prompt` / `negative` field.
 */
export async function promptConditioning(
  model: DiffusionModel,
  prompt: PromptValue | undefined,
  negative: PromptValue | undefined,
  guidanceScale: number,
  where: { node: string; signal?: AbortSignal; warn?: (warning: NodeWarningInit) => void },
): Promise<Tensor> {
  const { node, signal, warn } = where;
  const positive = await promptEmbedding(model, prompt, { node, field: 'prompt', signal, warn });
  if (!usesClassifierFreeGuidance(guidanceScale)) return positive;
  const uncond = await promptEmbedding(model, negative, { node, field: 'negative', signal, warn });
  return guidanceEmbeddings(uncond, positive);
}
