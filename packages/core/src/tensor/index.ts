export { Tensor, sizeOfDims, sameDims, assertSameDims } from './tensor.js';
export { IntTensor } from './int-tensor.js';
export type { IntDType, IntData } from './int-tensor.js';
export {
  batchView,
  batchRange,
  concatBatch,
  splitBatch,
  stack,
  repeatInterleaveBatch,
  tileBatch,
  transpose,
  stridesOf,
  nchwToNhwc,
  nhwcToNchw,
} from './views.js';
export {
  add,
  sub,
  mul,
  div,
  absDiff,
  affine,
  scale,
  addScalar,
  abs,
  clamp,
  mapElements,
  axpy,
  axpyInPlace,
  linearCombination,
  broadcastStrides,
  maskedBlend,
  sumAll,
  meanAll,
  meanAxes,
  maxAll,
  minAll,
} from './ops.js';
export { resizeNearest, resizeBilinear, resizeArea } from './resize.js';
export { tensorFromOrt, intTensorFromOrt, tensorToOrt, intTensorToOrt } from './ort.js';
export { float16BitsToNumber, numberToFloat16Bits, toFloat16Bits, fromFloat16Bits } from './float16.js';
export type { OrtTensorLike, OrtFloatType, OrtFloat32Tensor, OrtFloat16Tensor, OrtIntTensor } from './ort.js';
export {
  toByteLevels,
  fromByteLevels,
  noteByteLevels,
  notedByteLevels,
  byteLevelsOf,
} from './byte-levels.js';
export { displayBytesOf, noteDisplayBytes, notedDisplayBytes, roundToDisplayBytes } from './display-bytes.js';
