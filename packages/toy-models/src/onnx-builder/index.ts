export * from './graph-builder.js';
// Reading and editing existing .onnx files (tests derive variants of real exports with it).
export { onnxType, ONNX_DATA_TYPE } from './onnx-schema.js';
