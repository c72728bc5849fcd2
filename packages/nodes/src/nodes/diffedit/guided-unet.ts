import type { NodeWarningInit } from '@diffedit/core';
import {
  classifierFreeGuidance,
  duplicateForGuidance,
  guidanceEmbeddings,
  usesClassifierFreeGuidance,
} from '@diffedit/core';
import { Tensor } from '@diffedit/core';

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

/**
 * The guided noise predictions of one sampling loop: ε_u + g·(ε_c − ε_u) from one UNet call on `[x; x]` with
 * CFG, the plain prediction without. The guided result goes into one buffer reused every step (valid until
 * the next predict). Unless `keepInput`, the UNet input `[x; x]` is handed over to the model call (a worker
 * takes its buffer instead of a copy), so a step allocates only that input and what the model returns.
 */
export class GuidedUnet {
  private guided: Tensor | undefined;
  private readonly cfg: boolean;

  constructor(
    private readonly model: DiffusionModel,
    /** From promptConditioning. */
    private readonly embeddings: Tensor,
    private readonly guidanceScale: number,
    private readonly options: { signal?: AbortSignal; keepInput?: boolean } = {},
  ) {
    this.cfg = usesClassifierFreeGuidance(guidanceScale);
  }

  /**
   * The prediction for the single latent `x` [1, C, h, w] at `timestep`; `input` (what the UNet got) only
   * with `keepInput`.
   */
  async predict(x: Tensor, timestep: number): Promise<{ input: Tensor | undefined; eps: Tensor }> {
    const { signal, keepInput = false } = this.options;
    if (!this.cfg) {
      const eps = await this.model.unet(x, timestep, this.embeddings, { signal });
      return { input: x, eps };
    }
    const input = duplicateForGuidance(x);
    const raw = await this.model.unet(input, timestep, this.embeddings, {
      signal,
      handOverSample: !keepInput,
    });
    if (this.guided === undefined || !this.guided.sameShape(x)) this.guided = new Tensor(x.dims);
    const eps = classifierFreeGuidance(raw, this.guidanceScale, this.guided);
    return { input: keepInput ? input : undefined, eps };
  }
}
