import type { WireDType } from './wire-tensor.js';

/** One model input or output as the session reports it: symbolic dims are strings (e.g. 'batch'). */
export interface IoSpec {
  readonly name: string;
  readonly type: WireDType | string;
  readonly shape: readonly (number | string)[];
}

/** What a session tells about itself, in plain data (the same from a worker as in-process). */
export interface SessionDescription {
  readonly inputs: readonly IoSpec[];
  readonly outputs: readonly IoSpec[];
}

export function findSpec(specs: readonly IoSpec[], name: string): IoSpec | undefined {
  return specs.find((s) => s.name === name);
}

/** A dim that the export fixed to a number, or undefined when it is symbolic/unknown. */
export function fixedDim(spec: IoSpec | undefined, axis: number): number | undefined {
  const d = spec?.shape[axis];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

export function isFloatType(type: string): type is 'float32' | 'float16' {
  return type === 'float32' || type === 'float16';
}

export function isIntType(type: string): type is 'int32' | 'int64' {
  return type === 'int32' || type === 'int64';
}
