import type { NodeDefinition } from '@diffedit/core';

import './model-values.js';

import { LoadBLIPNode, LoadDiffusionModelNode, LoadT5Node } from './load-models.js';

export { ModelManagerKey, loadModelFor } from './model-service.js';
export { LoadBLIPNode, LoadDiffusionModelNode, LoadT5Node };

export const modelLoaderNodes: readonly NodeDefinition[] = [LoadDiffusionModelNode, LoadT5Node, LoadBLIPNode];
