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
 * DiffusionModel.unet inside a program: at most `maxBatch` rows a session call (rows are views, nothing is
 * copied on the way in), cancellation checked before each call, the outputs stacked as float32.
 */
export async function programUnet(
  ctx: ProgramContext,
  io: UnetIo,
  maxBatch: number | undefined,
  sample: Tensor,
  timestep: number,
  hidden: Tensor,
): Promise<Tensor> {
  return runRowChunks(ctx, 'unet', io.outName, sample.dims[0], maxBatch, (start, end) =>
    unetFeeds(
      io,
      sliceRows(sample, start, end),
      new Array<number>(end - start).fill(timestep),
      sliceRows(hidden, start, end),
      false,
      false,
    ),
  );
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
