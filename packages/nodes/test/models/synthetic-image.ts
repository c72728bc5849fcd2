/** The synthetic image of data/pil_bicubic_reference.py (the Pillow reference scripts): ramps, noise and a checkerboard (integer arithmetic only). */
export function syntheticRgb(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const noise = ((x * 7919 + y * 104729) % 41) - 20;
      const checker = (Math.floor(x / 7) + Math.floor(y / 9)) % 2 === 0 ? 230 : 20;
      const rgb = [
        Math.floor((x * 255) / (width - 1)) + noise,
        Math.floor((y * 255) / (height - 1)) - noise,
        checker + noise,
      ];
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.min(255, Math.max(0, rgb[c]));
    }
  }
  return data;
}
