import type { NodeDefinition } from '@diffedit/core';

import { IntegerNode, NumberNode } from './number.js';
import { ShowValueNode } from './show-value.js';
import { TextListNode } from './text-list.js';
import { TextTemplateNode } from './text-template.js';
import { TextNode } from './text.js';

export { IntegerNode, NumberNode } from './number.js';
export { formatValue, ShowValueNode } from './show-value.js';
export { TextListNode } from './text-list.js';
export { fillTemplate, TextTemplateNode } from './text-template.js';
export { TextNode } from './text.js';

/** Primitives, text helpers and inspection nodes that need no model. */
export const genericNodes: readonly NodeDefinition[] = [
  TextNode,
  NumberNode,
  IntegerNode,
  TextTemplateNode,
  TextListNode,
  ShowValueNode,
];
