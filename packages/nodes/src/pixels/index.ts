export * from './rgb-image.js';
export * from './decode-image.js';
export * from './png-text.js';
export * from './pixel-resize.js';
export * from './grid-tiling.js';
export * from './mask-image.js';
export * from './latent-preview.js';
export * from './preview-fit.js';
