import type * as ort from 'onnxruntime-node';

/** One declared input or output: name, element type, shape with symbolic dims as 'dyn'. */
export type Io = [name: string, type: string, shape: (number | 'dyn')[]];

/** A session's inputs or outputs as the export declares them, for comparison with the real exports' I/O. */
export function describeIo(
  names: readonly string[],
  metadata: readonly ort.InferenceSession.ValueMetadata[],
): Io[] {
  return names.map((name, i) => {
    const meta = metadata[i];
    if (!meta.isTensor) throw new Error(`${name} is not a tensor`);
    return [name, meta.type, meta.shape.map((d) => (typeof d === 'number' ? d : 'dyn'))];
  });
}
