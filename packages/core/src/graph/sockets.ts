/** Every kind of value that can travel along an edge. */
export const SOCKET_TYPES = [
  'IMAGE',
  'MASK',
  'LATENTS',
  'INVERTED_LATENTS',
  'ENCODED_IMAGE',
  'EMBEDDING',
  'TEXT',
  'TEXT_LIST',
  'NUMBER',
  'INT',
  'BOOL',
  'DIFFUSION_MODEL',
  'T5_MODEL',
  'BLIP_MODEL',
  'ANY',
] as const;

export type SocketType = (typeof SOCKET_TYPES)[number];

/**
 * Implicit conversions allowed along an edge, besides an exact match: output type → input types it may feed.
 * `ANY` as an input type accepts every output (used by inspection nodes such as ShowValue).
 */
export const SOCKET_CONVERSIONS: Readonly<Partial<Record<SocketType, readonly SocketType[]>>> = {
  TEXT: ['TEXT_LIST'],
  INT: ['NUMBER'],
};

/**
 * Decides which of an input's accepted types an output of type `output` connects as, or `undefined` when the
 * connection is not allowed. An exact match wins over a conversion. The editor, server and CLI all use this.
 */
export function resolveSocketConnection(
  output: SocketType,
  accepts: SocketType | readonly SocketType[],
): SocketType | undefined {
  const accepted: readonly SocketType[] = typeof accepts === 'string' ? [accepts] : accepts;
  if (accepted.includes(output)) return output;
  const conversion = (SOCKET_CONVERSIONS[output] ?? []).find((t) => accepted.includes(t));
  if (conversion !== undefined) return conversion;
  return accepted.includes('ANY') ? 'ANY' : undefined;
}

/** Whether an output of type `output` may be connected to an input accepting `accepts`. */
export function isSocketCompatible(output: SocketType, accepts: SocketType | readonly SocketType[]): boolean {
  return resolveSocketConnection(output, accepts) !== undefined;
}

/** Converts a value crossing an edge from `from` to the input type `to` it was resolved to. */
export function convertSocketValue(from: SocketType, to: SocketType, value: unknown): unknown {
  if (from === 'TEXT' && to === 'TEXT_LIST') return [value];
  return value;
}

/**
 * TypeScript types of socket values, used to type `run`'s inputs and outputs. Packages that define richer
 * values (tensors, model handles) add them by declaration merging:
 * `declare module '@diffedit/core' { interface SocketValueTypes { IMAGE: ImageTensor } }`.
 */
export interface SocketValueTypes {
  TEXT: string;
  TEXT_LIST: string[];
  NUMBER: number;
  INT: number;
  BOOL: boolean;
  ANY: unknown;
}

export type SocketValue<T extends SocketType> = T extends keyof SocketValueTypes
  ? SocketValueTypes[T]
  : unknown;
