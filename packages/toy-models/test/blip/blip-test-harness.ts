import { join } from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { Scene } from '../../src/scenes/index.js';
import { sceneToUint8 } from '../../src/scenes/index.js';

export const DEC_ID = 30522;
export const SEP_ID = 102;
const SIZE = 384;
const MEAN = [0.48145466, 0.4578275, 0.40821073];
const STD = [0.26862954, 0.26130258, 0.27577711];

export interface BlipSessions {
  readonly vision: ort.InferenceSession;
  readonly decoder: ort.InferenceSession;
}

export async function openBlip(dir: string): Promise<BlipSessions> {
  const [vision, decoder] = await Promise.all(
    ['vision_model.onnx', 'text_decoder.onnx'].map((f) => ort.InferenceSession.create(join(dir, f))),
  );
  return { vision, decoder };
}

/** BlipImageProcessor: bicubic resize to 384², rescale by 1/255, CLIP normalisation; [1, 3, 384, 384]. */
export async function pixelValuesOf(scene: Scene): Promise<Float32Array> {
  const resized = await sharp(Buffer.from(sceneToUint8(scene)), {
    raw: { width: scene.width, height: scene.height, channels: 3 },
  })
    .resize(SIZE, SIZE, { kernel: 'cubic', fit: 'fill' })
    .raw()
    .toBuffer();
  const plane = SIZE * SIZE;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) out[c * plane + i] = (resized[i * 3 + c] / 255 - MEAN[c]) / STD[c];
  }
  return out;
}

export async function visionOf(
  sessions: BlipSessions,
  pixels: Float32Array[],
): Promise<ort.InferenceSession.ReturnType> {
  const batch = new Float32Array(pixels.length * pixels[0].length);
  pixels.forEach((p, b) => batch.set(p, b * p.length));
  return sessions.vision.run({
    pixel_values: new ort.Tensor('float32', batch, [pixels.length, 3, SIZE, SIZE]),
  });
}

/**
 * BLIP's conditional captioning: the prompt's ids with [CLS] replaced by [DEC] and the trailing [SEP] dropped,
 * then greedy decoding until [SEP]. Returns the decoded caption (prompt included, special tokens skipped).
 */
export async function captionOf(
  sessions: BlipSessions,
  tokenizer: Tokenizer,
  hidden: ort.Tensor,
  prompt = 'a photograph of',
  maxNewTokens = 40,
): Promise<string> {
  const ids = tokenizer.encode(prompt).ids.slice(0, -1);
  ids[0] = DEC_ID;
  for (let step = 0; step < maxNewTokens; step++) {
    const dims = [1, ids.length];
    const out = await sessions.decoder.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), dims),
      attention_mask: new ort.Tensor(
        'int64',
        BigInt64Array.from(ids, () => 1n),
        dims,
      ),
      encoder_hidden_states: hidden,
    });
    const [, t, v] = out.logits.dims;
    const row = (out.logits.data as Float32Array).subarray((t - 1) * v, t * v);
    let best = 0;
    for (let i = 1; i < v; i++) if (row[i] > row[best]) best = i;
    ids.push(best);
    if (best === SEP_ID) break;
  }
  return tokenizer.decode(ids, { skip_special_tokens: true });
}
