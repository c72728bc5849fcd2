import type { NodeDefinition } from '@diffedit/core';

import './image-values.js';

import { ImageGridNode } from './image-grid.js';
import { LoadImageNode } from './load-image.js';
import { LoadMaskNode } from './load-mask.js';
import { MaskToImageNode } from './mask-to-image.js';
import { PreviewImageNode } from './preview-image.js';
import { SaveImageNode } from './save-image.js';

export * from './image-values.js';
export * from './input-files.js';
export * from './output-preview.js';
export { ImageGridNode, LoadImageNode, LoadMaskNode, MaskToImageNode, PreviewImageNode, SaveImageNode };
export { PNG_INPUTS_KEY, PNG_WORKFLOW_KEY, pngTextsFor, readWorkflowFromPng } from './save-image.js';

export const imageNodes: readonly NodeDefinition[] = [
  LoadImageNode,
  LoadMaskNode,
  MaskToImageNode,
  ImageGridNode,
  PreviewImageNode,
  SaveImageNode,
];
