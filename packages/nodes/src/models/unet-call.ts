// One UNet call's feeds, as the export declares them: shared by DiffusionModel.unet (a call per request) and
// the loop programs (calls made next to the session), so both feed the model the same bytes.
import type { Tensor } from '@diffedit/core';

import { sliceRows } from './batching.js';
import type { IoSpec, SessionDescription } from './io-spec.js';
import { findSpec, fixedDim, isFloatType, isIntType } from './io-spec.js';
import { ModelError } from './model-errors.js';
import type { ProgramContext } from './program.js';
import { runRowChunks } from './program-rows.js';
import type { WireDType, WireFeeds, WireTensor } from './wire-tensor.js';
import { floatFeed, numberFeed } from './wire-tensor.js';

export const UNET_FILE = 'unet/model.onnx';

/** What a UNet call needs to know of the session: input types, the timestep's layout, the output's name. */
export interface UnetIo {
  readonly folder: string;
  readonly sampleType: WireDType;
  readonly hiddenType: WireDType;
  readonly stepSpec: IoSpec;
  readonly outName: string;
}

export function unetIo(session: SessionDescription, folder: string): UnetIo {
  const spec = (name: string): IoSpec => findSpec(session.inputs, name) as IoSpec;
  return {
    folder,
    sampleType: floatInputType(spec('sample'), folder, UNET_FILE),
    hiddenType: floatInputType(spec('encoder_hidden_states'), folder, UNET_FILE),
    stepSpec: spec('timestep'),
    outName: (findSpec(session.outputs, 'out_sample') ?? session.outputs[0]).name,
  };
}

/** The feeds of one call on rows `x` with `steps` (one per row) and embeddings `h`; `copy*` forces fresh buffers. */
export function unetFeeds(
  io: UnetIo,
  x: Tensor,
  steps: readonly number[],
  h: Tensor,
  copyX: boolean,
  copyH: boolean,
): WireFeeds {
  return {
    sample: floatFeed(io.sampleType, x.dims, x.data, copyX),
    timestep: timestepFeed(io.stepSpec, steps, io.folder, UNET_FILE),
    encoder_hidden_states: floatFeed(io.hiddenType, h.dims, h.data, copyH),
  };
}

/**
 * Timestep tensors of loop calls by layout and value, shared by every loop on this thread: a WireTensor never
 * changes, so one made for a timestep serves every later run too (and so does the onnxruntime tensor that
 * runOrtSession keeps for it), instead of a BigInt64Array and an onnxruntime tensor per call. Bounded: a
 * thread sees a few hundred distinct timesteps at most; past the bound the map starts over.
 */
const sharedTimesteps = new Map<string, WireTensor>();
const SHARED_TIMESTEPS_MAX = 4096;

/** Makes the timestep tensor of `steps` and keeps it under `key` (callers look it up first). */
function shareTimestep(io: UnetIo, steps: readonly number[], key: string): WireTensor {
  const timestep = timestepFeed(io.stepSpec, steps, io.folder, UNET_FILE);
  if (sharedTimesteps.size >= SHARED_TIMESTEPS_MAX) sharedTimesteps.clear();
  sharedTimesteps.set(key, timestep);
  return timestep;
}

/**
 * The wire tensors of a loop's UNet calls that stay the same from step to step, made once: the feed of a float32
 * input array the loop reuses (its embeddings, the [x; x] buffer it refills every step) and one timestep tensor
 * per timestep (shared with the thread's other loops, see sharedTimesteps). onnxruntime reads the arrays when it
 * runs, so the same WireTensor stays right while its array lives; runOrtSession then reuses its onnxruntime
 * tensor too (see ort-session.ts). Arrays of another float type are converted (copied) per call, as unetFeeds
 * does.
 */
export class UnetFeedCache {
  private readonly floats = new WeakMap<Float32Array, WireTensor>();
  /** what a timestep's key starts with: the input's declared layout (the tensor depends on nothing else) */
  private readonly layout: string;

  constructor(private readonly io: UnetIo) {
    const spec = io.stepSpec;
    this.layout = `${spec.type}|${spec.shape.map((d) => (typeof d === 'number' ? d : '?')).join(',')}|`;
  }

  /**
   * unetFeeds(io, x, [timestep, …] (one per row of x), h, false, false) with the wire tensors made once where
   * they can be (the array of timesteps only when its tensor is made).
   */
  feedsAt(x: Tensor, timestep: number, h: Tensor): WireFeeds {
    const rows = x.dims[0];
    const key = `${this.layout}${rows}×${timestep}`;
    const io = this.io;
    return {
      sample: this.float(io.sampleType, x),
      timestep: sharedTimesteps.get(key) ?? shareTimestep(io, new Array<number>(rows).fill(timestep), key),
      encoder_hidden_states: this.float(io.hiddenType, h),
    };
  }

  private float(type: WireDType, t: Tensor): WireTensor {
    if (type !== 'float32') return floatFeed(type, t.dims, t.data, false);
    const cached = this.floats.get(t.data);
    if (cached !== undefined && sameDims(cached.dims, t.dims)) return cached;
    const made = floatFeed(type, t.dims, t.data, false);
    this.floats.set(t.data, made);
    return made;
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * DiffusionModel.unet inside a program: at most `maxBatch` rows a session call (rows are views, nothing is
 * copied on the way in), cancellation checked before each call, the outputs stacked as float32. With `cache`
 * (a loop's), a call that takes all the rows feeds the arrays as they are through the cache's wire tensors.
 */
export async function programUnet(
  ctx: ProgramContext,
  io: UnetIo,
  maxBatch: number | undefined,
  sample: Tensor,
  timestep: number,
  hidden: Tensor,
  cache?: UnetFeedCache,
): Promise<Tensor> {
  const rows = sample.dims[0];
  return runRowChunks(ctx, 'unet', io.outName, rows, maxBatch, (start, end) => {
    if (cache !== undefined && start === 0 && end === rows) return cache.feedsAt(sample, timestep, hidden);
    const steps = new Array<number>(end - start).fill(timestep);
    return unetFeeds(io, sliceRows(sample, start, end), steps, sliceRows(hidden, start, end), false, false);
  });
}

export function floatInputType(spec: IoSpec, folder: string, file: string): WireDType {
  if (isFloatType(spec.type)) return spec.type;
  throw new ModelError(
    'model_io_mismatch',
    folder,
    file,
    `input ${spec.name} has type ${spec.type}, expected float`,
  );
}

/** Timesteps shaped and typed as the UNet declares: rank 0, [1] (one shared value) or [B]. */
export function timestepFeed(
  spec: IoSpec,
  steps: readonly number[],
  folder: string,
  file: string,
): WireTensor {
  const type = spec.type;
  if (!isFloatType(type) && !isIntType(type)) {
    throw new ModelError('model_io_mismatch', folder, file, `timestep has unsupported type ${type}`);
  }
  const shared = spec.shape.length === 0 || fixedDim(spec, 0) === 1;
  if (spec.shape.length > 1) {
    throw new ModelError(
      'model_io_mismatch',
      folder,
      file,
      `timestep has rank ${spec.shape.length}, expected 0 or 1`,
    );
  }
  if (shared) {
    if (steps.some((s) => s !== steps[0])) {
      throw new RangeError(`${file} takes one timestep for the whole batch; got ${steps.join(', ')}`);
    }
    return numberFeed(type, spec.shape.length === 0 ? [] : [1], [steps[0]]);
  }
  return numberFeed(type, [steps.length], steps);
}
