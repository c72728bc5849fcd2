import { defineNode, NodeInputError } from '@diffedit/core';

const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `{name}` placeholders in `template` with `values[name]`; `{{` and `}}` stand for literal braces.
 * Throws NodeInputError('template', …) naming the first placeholder without a value.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string | undefined>>): string {
  return template.replace(PLACEHOLDER, (match, name: string | undefined) => {
    if (name === undefined) return match[0];
    // own names only: {constructor} or {toString} must not find Object.prototype's
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (value === undefined) {
      const known = Object.keys(values).filter((k) => values[k] !== undefined);
      throw new NodeInputError(
        'template',
        `placeholder {${name}} has no value (connected: ${known.length > 0 ? known.join(', ') : 'none'})`,
      );
    }
    return value;
  });
}

const slot = { type: ['TEXT', 'NUMBER', 'INT'], required: false } as const;

export const TextTemplateNode = defineNode({
  type: 'TextTemplate',
  version: 1,
  title: 'Text template',
  category: 'text',
  description:
    'Fills {a}, {b}, {c}, {d} in a template with the connected inputs, e.g. "a photo of a {a}". Write {{ and }} for literal braces.',
  inputs: { a: slot, b: slot, c: slot, d: slot },
  params: { template: { kind: 'text', default: '{a}', description: 'Text with {a}…{d} placeholders.' } },
  outputs: { text: { type: 'TEXT' } },
  async run(_ctx, inputs, params) {
    const values: Record<string, string | undefined> = {};
    for (const name of ['a', 'b', 'c', 'd'] as const) {
      const value = inputs[name];
      values[name] = value === undefined ? undefined : String(value);
    }
    return { text: fillTemplate(params.template, values) };
  },
});
