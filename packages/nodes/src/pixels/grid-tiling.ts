import { createRgbImage, type RgbImage } from './rgb-image.js';
import { resizeRgbNearest } from './pixel-resize.js';

/**
 * Tiles images row by row into a rows×cols grid, like diffusers' `make_image_grid`: every cell has the
 * size of the first image (others are resized to it), and the count must equal rows·cols.
 */
export function makeImageGrid(images: readonly RgbImage[], rows: number, cols: number): RgbImage {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows <= 0 || cols <= 0) {
    throw new Error(`grid rows and cols must be positive integers, got ${rows}×${cols}`);
  }
  if (images.length !== rows * cols) {
    throw new Error(`a ${rows}×${cols} grid needs ${rows * cols} images, got ${images.length}`);
  }
  const { width, height } = images[0];
  const grid = createRgbImage(width * cols, height * rows);
  const stride = width * cols * 3;
  images.forEach((source, index) => {
    const cell =
      source.width === width && source.height === height ? source : resizeRgbNearest(source, width, height);
    const x0 = (index % cols) * width;
    const y0 = Math.floor(index / cols) * height;
    for (let y = 0; y < height; y++) {
      const from = y * width * 3;
      grid.data.set(cell.data.subarray(from, from + width * 3), (y0 + y) * stride + x0 * 3);
    }
  });
  return grid;
}
