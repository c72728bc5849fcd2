import type { DiffusionModel } from '../../models/diffusion-model.js';
import type { BlipModel } from '../../models/blip-model.js';
import type { T5Model } from '../../models/t5-model.js';

/** Model handles travel along edges as the loaded model objects (sessions are shared by the ModelManager). */
declare module '@diffedit/core' {
  interface SocketValueTypes {
    DIFFUSION_MODEL: DiffusionModel;
    T5_MODEL: T5Model;
    BLIP_MODEL: BlipModel;
  }
}
