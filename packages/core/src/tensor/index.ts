export { Tensor, sizeOfDims, sameDims, assertSameDims } from './tensor.js';
export { IntTensor } from './int-tensor.js';
export type { IntDType, IntData } from './int-tensor.js';
