export {};
export * from './onnx-builder/index.js';
export * from './catalog.js';
export * from './nodes/generic/index.js';
