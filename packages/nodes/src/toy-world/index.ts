export * from './vocabulary.js';
export * from './tokenizer-files.js';
export * from './text-encoder.js';
export * from './unet.js';
export * from './vae.js';
export * from './configs.js';
export * from './sd-pack.js';
export * from './pack.js';
