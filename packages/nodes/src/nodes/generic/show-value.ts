import { defineNode, describeValue, isPlainFileName, NodeInputError } from '@diffedit/core';

/** Text for a value: strings as they are, anything else as indented JSON with binary data summarised. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  return (
    JSON.stringify(
      value,
      (_key, v: unknown) => (ArrayBuffer.isView(v) || v instanceof ArrayBuffer ? describeValue(v) : v),
      2,
    ) ?? describeValue(value)
  );
}

export const ShowValueNode = defineNode({
  type: 'ShowValue',
  version: 1,
  title: 'Show value',
  category: 'debug',
  description: 'Shows any value as text, logs it, and (when a file name is set) writes it as a text file.',
  output: true,
  inputs: { value: { type: 'ANY', description: 'Anything to inspect.' } },
  params: {
    filename: {
      kind: 'string',
      default: 'value.txt',
      description: 'File written into the output folder; empty for none.',
    },
  },
  outputs: { text: { type: 'TEXT' } },
  async run(ctx, inputs, params) {
    if (params.filename !== '' && !isPlainFileName(params.filename)) {
      throw new NodeInputError('filename', `'${params.filename}' is not a plain file name (no folders)`);
    }
    const text = formatValue(inputs.value);
    ctx.log.info(text.length > 200 ? `${text.slice(0, 197)}…` : text);
    if (params.filename !== '') {
      ctx.emitFile({
        name: params.filename,
        mime: 'text/plain',
        bytes: new TextEncoder().encode(`${text}\n`),
      });
    }
    return { text };
  },
});
