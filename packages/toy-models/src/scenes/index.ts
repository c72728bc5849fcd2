export * from './colours.js';
export * from './scene.js';
export * from './demo-assets.js';
