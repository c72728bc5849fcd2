export {};
export * from './onnx-builder/index.js';
