export * from './rgb-image.js';
export * from './decode-image.js';
export * from './png-text.js';
export * from './resize.js';
export * from './image-grid.js';
export * from './mask-image.js';
export * from './latent-preview.js';
