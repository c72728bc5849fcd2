import type { ResolvedSchedulerConfig, Tensor } from '@diffedit/core';

import type { VaeEncoding } from '../../models/diffusion-model.js';
import type { LatentPreviewProjection } from '../../pixels/index.js';

/**
 * EMBEDDING: prompt embeddings [1, 77, D] (the text encoder's last_hidden_state, averaged over a prompt list).
 * LATENTS: scaled VAE latents [B, C, h, w] (`VAE mean/sample · scaling_factor`).
 * INVERTED_LATENTS: DDIMInvert's result with everything MaskedDenoise needs to continue it.
 * ENCODED_IMAGE: VAEEncode's result, one image's VAE posterior that GenerateMask and DDIMInvert sample from.
 */
declare module '@diffedit/core' {
  interface SocketValueTypes {
    EMBEDDING: Tensor;
    LATENTS: Tensor;
    INVERTED_LATENTS: InvertedLatents;
    ENCODED_IMAGE: EncodedImage;
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
  /** latent → RGB map for progress previews, fitted when the image was encoded */
  readonly previewProjection?: LatentPreviewProjection;
}

export interface EncodedImage {
  /** the VAE encoder's output for the one image (unscaled; see VaeEncoding) */
  readonly encoding: VaeEncoding;
  /** the diffusion model folder whose VAE encoded it */
  readonly model: string;
  readonly width: number;
  readonly height: number;
  /** latent → RGB map fitted from this image and its latent, so previews need no VAE decode */
  readonly previewProjection: LatentPreviewProjection;
  /** the image, kept only when the export samples inside its graph (more draws need more encodes) */
  readonly image?: Tensor;
}
