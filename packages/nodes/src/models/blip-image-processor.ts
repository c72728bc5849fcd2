import { Tensor } from '@diffedit/core';
import { ModelError } from './model-errors.js';
import type { JsonObject } from './model-files.js';
import { numberField, readOptionalJson } from './model-files.js';
import { PILLOW_RESAMPLE, pillowResize } from './pillow-resize.js';
import type { PillowFilter } from './pillow-resize.js';

/** An 8-bit RGB picture, row-major, channels last (3 values a pixel). */
export interface Uint8RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array | Uint8ClampedArray;
}

/** What captioning accepts: a float RGB tensor [1,3,H,W] in [0,1], or 8-bit RGB. */
export type CaptionImage = Tensor | Uint8RgbImage;

/** BlipImageProcessor settings (preprocessor_config.json); CLIP's mean/std and 384² are the defaults. */
export interface BlipImageSettings {
  readonly width: number;
  readonly height: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly rescaleFactor: number;
  /** Pillow filter of `resample` (BLIP: 3, bicubic; codes Pillow's resize has no filter for fall back to it). */
  readonly resample: PillowFilter;
}

export const CLIP_IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_IMAGE_STD = [0.26862954, 0.26130258, 0.27577711] as const;

function triple(value: unknown, fallback: readonly [number, number, number]): [number, number, number] {
  if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number')) {
    return [value[0], value[1], value[2]];
  }
  if (typeof value === 'number') return [value, value, value];
  return [...fallback];
}

/**
 * The image processor's settings: `preprocessor_config.json` (transformers 4), else the `image_processor` object
 * nested in `processor_config.json` (what transformers 5's `BlipProcessor.save_pretrained` writes), else none
 * (BLIP's defaults).
 */
export async function readImageProcessorConfig(folder: string): Promise<JsonObject | undefined> {
  const own = await readOptionalJson(folder, 'preprocessor_config.json');
  if (own !== undefined) return own;
  const processor = await readOptionalJson(folder, 'processor_config.json');
  if (processor === undefined) return undefined;
  const nested = processor.image_processor;
  if (nested === undefined) return undefined;
  if (typeof nested !== 'object' || nested === null || Array.isArray(nested)) {
    throw new ModelError(
      'model_file_invalid',
      folder,
      'processor_config.json',
      'image_processor is not an object',
    );
  }
  return nested as JsonObject;
}

export function blipImageSettings(config: JsonObject | undefined): BlipImageSettings {
  const size = config?.size;
  let width = 384;
  let height = 384;
  if (typeof size === 'number') width = height = size;
  else if (typeof size === 'object' && size !== null) {
    const s = size as JsonObject;
    height = numberField(s, 'height') ?? numberField(s, 'shortest_edge') ?? height;
    width = numberField(s, 'width') ?? numberField(s, 'shortest_edge') ?? width;
  }
  return {
    width,
    height,
    mean: triple(config?.image_mean, CLIP_IMAGE_MEAN),
    std: triple(config?.image_std, CLIP_IMAGE_STD),
    rescaleFactor: numberField(config, 'rescale_factor') ?? 1 / 255,
    resample: PILLOW_RESAMPLE[numberField(config, 'resample') ?? 3] ?? 'bicubic',
  };
}

/**
 * A float [1,3,H,W] tensor in [0,1] becomes 8-bit RGB the way transformers turns a float array into a PIL image
 * before resizing (×255, rounded); 8-bit input is checked and used as is.
 */
export function toUint8Rgb(image: CaptionImage): Uint8RgbImage {
  if (image instanceof Tensor) {
    const [b, c, h, w] = image.dims;
    if (image.rank !== 4 || b !== 1 || c !== 3) {
      throw new RangeError(`caption image must be a [1,3,H,W] tensor, got [${image.dims.join(', ')}]`);
    }
    const data = new Uint8Array(h * w * 3);
    const plane = h * w;
    for (let ch = 0; ch < 3; ch++) {
      for (let i = 0; i < plane; i++) {
        const v = image.data[ch * plane + i];
        data[i * 3 + ch] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
    }
    return { width: w, height: h, data };
  }
  if (image.data.length !== image.width * image.height * 3) {
    throw new RangeError(
      `8-bit RGB image of ${image.width}×${image.height} needs ${image.width * image.height * 3} values, got ${image.data.length}`,
    );
  }
  return image;
}

/**
 * BLIP pixel_values [1,3,h,w]: Pillow's resize with the processor's filter (bicubic), as transformers does it,
 * then rescale and normalise per channel.
 */
export function blipPixelValues(image: CaptionImage, settings: BlipImageSettings): Tensor {
  const rgb = toUint8Rgb(image);
  const { width, height } = settings;
  const resized =
    rgb.width === width && rgb.height === height
      ? rgb.data
      : pillowResize(rgb, width, height, settings.resample).data;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let ch = 0; ch < 3; ch++) {
    const mean = settings.mean[ch];
    const std = settings.std[ch];
    for (let i = 0; i < plane; i++)
      out[ch * plane + i] = (resized[i * 3 + ch] * settings.rescaleFactor - mean) / std;
  }
  return new Tensor([1, 3, height, width], out);
}
