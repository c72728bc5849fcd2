// What the editor uses of the core to validate, plan and key a canvas in the browser.
import {
  catalogFromJSON,
  checkParamValue,
  computeCacheKeys,
  computeCanvasKeys,
  planExecution,
  validateWorkflow,
} from '@diffedit/core';

export const browserContract = {
  catalogFromJSON,
  checkParamValue,
  computeCacheKeys,
  computeCanvasKeys,
  planExecution,
  validateWorkflow,
};
