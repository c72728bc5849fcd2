// Direct onnxruntime-node use, shared by the in-process backend and the worker thread.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { toFloat16Bits } from '@diffedit/core';
import * as ort from 'onnxruntime-node';
import { errorMessage } from './model-errors.js';
import type { IoSpec, SessionDescription } from './io-spec.js';
import { wireToFloat32 } from './wire-tensor.js';
import type { WireData, WireDType, WireFeeds, WireTensor } from './wire-tensor.js';

/** One try of one execution provider while opening a session. */
export interface ProviderAttempt {
  readonly provider: string;
  readonly ok: boolean;
  readonly error?: string;
}

export interface SessionCreateOptions {
  /** Execution providers in order of preference; each is tried alone because onnxruntime-node throws
   * (instead of falling back) when a provider cannot be used. */
  readonly providers: readonly string[];
  /** Threads of onnxruntime's intra-op pool per session (its default: one per core). */
  readonly intraOpNumThreads?: number;
  /** Whether idle intra-op threads spin (onnxruntime's default, true) or sleep at once. */
  readonly allowSpinning?: boolean;
}

export interface OpenedSession extends SessionDescription {
  readonly session: ort.InferenceSession;
  readonly provider: string;
  readonly attempts: readonly ProviderAttempt[];
}

/** Raised when no configured provider could open the model; carries every attempt's reason. */
export class SessionOpenError extends Error {
  readonly attempts: readonly ProviderAttempt[];
  constructor(path: string, attempts: readonly ProviderAttempt[]) {
    const reasons = attempts.map((a) => `${a.provider}: ${a.error ?? 'failed'}`).join('; ');
    super(`cannot open ${path} with any execution provider (${reasons})`);
    this.name = 'SessionOpenError';
    this.attempts = attempts;
  }
}

function describe(meta: readonly ort.InferenceSession.ValueMetadata[]): IoSpec[] {
  return meta.map((m) =>
    m.isTensor
      ? { name: m.name, type: m.type, shape: [...m.shape] }
      : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

// Provider libraries that onnxruntime-node loads at session creation; its install script downloads them only
// when asked to (README: GPU). When the file is absent we skip the provider instead of letting onnxruntime print
// a native error for every session it tries to open.
const PROVIDER_LIBRARIES: Readonly<Record<string, Partial<Record<NodeJS.Platform, string>>>> = {
  cuda: { linux: 'libonnxruntime_providers_cuda.so', win32: 'onnxruntime_providers_cuda.dll' },
  tensorrt: { linux: 'libonnxruntime_providers_tensorrt.so', win32: 'onnxruntime_providers_tensorrt.dll' },
};

/** Why `provider` cannot work in this installation, or undefined when it is worth trying. */
export function providerUnavailableReason(provider: string): string | undefined {
  const library = PROVIDER_LIBRARIES[provider]?.[process.platform];
  if (library === undefined) return undefined;
  const packageRoot = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const path = join(packageRoot, 'bin', 'napi-v6', process.platform, process.arch, library);
  return existsSync(path)
    ? undefined
    : `onnxruntime-node's ${provider} provider library is not installed (${path}); see the README section on GPUs`;
}

/** Opens a session from a file path (so external data such as model.onnx_data resolves beside it). */
export async function openOrtSession(path: string, options: SessionCreateOptions): Promise<OpenedSession> {
  if (options.providers.length === 0) throw new Error(`no execution provider configured for ${path}`);
  const attempts: ProviderAttempt[] = [];
  for (const provider of options.providers) {
    const unavailable = providerUnavailableReason(provider);
    if (unavailable !== undefined) {
      attempts.push({ provider, ok: false, error: unavailable });
      continue;
    }
    try {
      const sessionOptions: ort.InferenceSession.SessionOptions = {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        ...(options.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: options.intraOpNumThreads }),
        ...(options.allowSpinning === undefined
          ? {}
          : { extra: { session: { intra_op: { allow_spinning: options.allowSpinning ? '1' : '0' } } } }),
      };
      const session = await ort.InferenceSession.create(path, sessionOptions);
      attempts.push({ provider, ok: true });
      return {
        session,
        provider,
        attempts,
        inputs: describe(session.inputMetadata),
        outputs: describe(session.outputMetadata),
      };
    } catch (error) {
      attempts.push({ provider, ok: false, error: errorMessage(error) });
    }
  }
  throw new SessionOpenError(path, attempts);
}

// A WireTensor never changes (readonly type, dims and array), and an onnxruntime tensor made from one only wraps
// its array: a loop that feeds the same WireTensor every step (UnetFeedCache) gets the same onnxruntime tensor.
const ortTensors = new WeakMap<WireTensor, ort.Tensor>();

function toOrt(t: WireTensor): ort.Tensor {
  let tensor = ortTensors.get(t);
  if (tensor === undefined) {
    tensor = new ort.Tensor(t.type, t.data as ort.Tensor.DataTypeMap[typeof t.type], t.dims);
    ortTensors.set(t, tensor);
  }
  return tensor;
}

const WIRE_TYPES: ReadonlySet<string> = new Set(['float32', 'float16', 'int64', 'int32', 'bool']);

function fromOrt(name: string, value: ort.OnnxValue): WireTensor {
  const t = value as ort.Tensor;
  if (!WIRE_TYPES.has(t.type)) throw new TypeError(`output ${name} has unsupported type ${t.type}`);
  const type = t.type as WireDType;
  let data = t.data as unknown as WireData;
  // A Float16Array (newer Node versions) is turned into the raw bits the rest of the layer expects.
  if (type === 'float16' && !(data instanceof Uint16Array))
    data = toFloat16Bits(data as unknown as ArrayLike<number>);
  return { type, dims: [...t.dims], data };
}

/** Wire tensors as onnxruntime tensors (no copy); the bench's replay prepares its feeds with it. */
export function toOrtFeeds(feeds: WireFeeds): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = toOrt(t);
  return out;
}

/**
 * One output of a session.run's results as dims and float32 values: a sampling loop's call on feeds converted
 * once (toOrtFeeds), without converting its outputs to wire tensors every step. Other output types are
 * converted as wireToTensor converts runOrtSession's.
 */
export function float32Output(
  results: ort.InferenceSession.ReturnType,
  output: string,
): { dims: readonly number[]; data: Float32Array } {
  const value = results[output] as ort.Tensor | undefined;
  if (value === undefined) throw new Error(`the session returned no output ${output}`);
  if (value.type === 'float32') return { dims: value.dims, data: value.data as Float32Array };
  const wire = fromOrt(output, value);
  return { dims: wire.dims, data: wireToFloat32(wire) };
}

export async function runOrtSession(
  session: ort.InferenceSession,
  feeds: WireFeeds,
  outputNames?: readonly string[],
): Promise<WireFeeds> {
  return wireOutputs(await startOrtRun(session, feeds, outputNames));
}

/** session.run on wire feeds (converted without a copy), before its outputs are converted (wireOutputs). */
export function startOrtRun(
  session: ort.InferenceSession,
  feeds: WireFeeds,
  outputNames?: readonly string[],
): Promise<ort.InferenceSession.ReturnType> {
  const ortFeeds = toOrtFeeds(feeds);
  return outputNames === undefined ? session.run(ortFeeds) : session.run(ortFeeds, [...outputNames]);
}

/** A session.run's outputs as wire tensors. */
export function wireOutputs(results: ort.InferenceSession.ReturnType): WireFeeds {
  const out: WireFeeds = {};
  for (const [name, value] of Object.entries(results)) out[name] = fromOrt(name, value);
  return out;
}
