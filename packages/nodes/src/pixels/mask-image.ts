import { createGreyImage, createRgbImage, type GreyImage, type RgbImage } from './rgb-image.js';
import { resizeGreyNearest } from './pixel-resize.js';

/** Displays a mask (1 = repaint, white) as an RGB image, upscaled with nearest neighbour so cells stay sharp. */
export function maskToRgbImage(mask: GreyImage, width = mask.width, height = mask.height): RgbImage {
  const scaled = resizeGreyNearest(mask, width, height);
  const out = createRgbImage(width, height);
  for (let p = 0; p < width * height; p++) {
    const v = scaled.data[p];
    out.data[p * 3] = v;
    out.data[p * 3 + 1] = v;
    out.data[p * 3 + 2] = v;
  }
  return out;
}

/** A painted mask image → binary mask: luminance (ITU-R 601, PIL's convert("L")) then `v ≥ 0.5 → 1` (spec §4). */
export function rgbImageToBinaryMask(image: RgbImage): GreyImage {
  const out = createGreyImage(image.width, image.height);
  for (let p = 0; p < image.width * image.height; p++) {
    const l = 0.299 * image.data[p * 3] + 0.587 * image.data[p * 3 + 1] + 0.114 * image.data[p * 3 + 2];
    out.data[p] = l >= 0.5 ? 1 : 0;
  }
  return out;
}

/** A grey picture → binary mask, `v ≥ 0.5 → 1` (or `v < 0.5 → 1` with `invert`). */
export function binariseGrey(image: GreyImage, invert = false): GreyImage {
  const out = createGreyImage(image.width, image.height);
  for (let p = 0; p < out.data.length; p++) out.data[p] = image.data[p] >= 0.5 !== invert ? 1 : 0;
  return out;
}

/** Resizes a mask to the latent grid (nearest) and re-binarises it; diffusers refuses other sizes (spec P2). */
export function fitMaskTo(mask: GreyImage, width: number, height: number): GreyImage {
  return binariseGrey(resizeGreyNearest(mask, width, height));
}
