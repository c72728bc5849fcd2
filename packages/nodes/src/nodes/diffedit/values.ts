import type { ResolvedSchedulerConfig, Tensor } from '@diffedit/core';

/**
 * EMBEDDING: prompt embeddings [1, 77, D] (the text encoder's last_hidden_state, averaged over a prompt list).
 * LATENTS: scaled VAE latents [B, C, h, w] (`VAE mean/sample · scaling_factor`).
 * INVERTED_LATENTS: DDIMInvert's result with everything MaskedDenoise needs to continue it.
 */
declare module '@diffedit/core' {
  interface SocketValueTypes {
    EMBEDDING: Tensor;
    LATENTS: Tensor;
    INVERTED_LATENTS: InvertedLatents;
  }
}

export interface InvertedLatents {
  /** [B, S, C, h, w], index 0 = the noisiest level (diffusers' order after its reversal, spec §6) */
  readonly latents: Tensor;
  /** the forward (denoising) timesteps MaskedDenoise runs, noisiest first; latents[:, i] sits at level timesteps[i] */
  readonly timesteps: readonly number[];
  readonly numInferenceSteps: number;
  readonly strength: number;
  readonly schedulerConfig: ResolvedSchedulerConfig;
  /** the diffusion model folder the latents were made with */
  readonly model: string;
  /** size of the image that was inverted */
  readonly width: number;
  readonly height: number;
}
