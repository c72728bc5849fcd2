export {};
export * from './onnx-builder/index.js';
export * from './catalog.js';
export * from './nodes/generic/index.js';
export * from './toy-world/t5/index.js';
export * from './toy-world/index.js';
export * from './scenes/index.js';
export * from './models/index.js';
