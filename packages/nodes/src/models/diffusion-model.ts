import { basename, join } from 'node:path';
import {
  DDIMInverseScheduler,
  DDIMScheduler,
  resolveSchedulerConfig,
  SD_VAE_SCALING_FACTOR,
  Tensor,
  HELD_ELSEWHERE,
} from '@diffedit/core';
import { batchChunks, concatRows, sliceRows } from './batching.js';
import { openComponent, rejectUnknownInputs, requireSpec } from './component-session.js';
import type { IoSpec } from './io-spec.js';
import { findSpec, fixedDim, isFloatType, isIntType } from './io-spec.js';
import { ModelError, throwIfAborted } from './model-errors.js';
import type { JsonObject } from './model-files.js';
import { numberField, readJsonFile, readOptionalJson } from './model-files.js';
import type { ModelSession } from './model-session.js';
import type { SessionPool } from './session-pool.js';
import { TextTokenizer } from './text-tokenizer.js';
import { unetFeeds, unetIo } from './unet-call.js';
import type { UnetIo } from './unet-call.js';
import { canRunProgram, runProgram } from './program-client.js';
import type { ProgramInvocation } from './program-client.js';
import { observingProgramCalls } from './program-client.js';
import type { ProgramRef } from './program.js';
import type { WireDType, WireFeeds } from './wire-tensor.js';
import { floatFeed, numberFeed, wireToTensor } from './wire-tensor.js';
import { wholeBuffer } from './worker-protocol.js';

export const DIFFUSION_FILES = {
  textEncoder: 'text_encoder/model.onnx',
  unet: 'unet/model.onnx',
  vaeEncoder: 'vae_encoder/model.onnx',
  vaeDecoder: 'vae_decoder/model.onnx',
  scheduler: 'scheduler/scheduler_config.json',
} as const;

/**
 * What the VAE encoder gave: the posterior's mean and log-variance (`latent_parameters`, newer optimum exports;
 * logvar clamped to [-30, 20] as diffusers does) for the caller to sample in JS, or a sample drawn inside the
 * graph (`latent_sample`, older exports). Neither is multiplied by the scaling factor.
 */
export type VaeEncoding =
  | { readonly kind: 'parameters'; readonly mean: Tensor; readonly logvar: Tensor }
  | { readonly kind: 'sample'; readonly sample: Tensor };

/** How a program calls a VAE session as DiffusionModel does: the input's name and float type, the output read. */
export interface VaeCallIo {
  readonly inputName: string;
  readonly inputType: WireDType;
  readonly outName: string;
}

export interface ModelCallOptions {
  readonly signal?: AbortSignal;
  /**
   * VAE calls: the caller gives up the input's buffer, made for this call and not read afterwards; a worker
   * session may take it (transfer) instead of a copy.
   */
  readonly handOverInput?: boolean;
}

export interface UnetCallOptions extends ModelCallOptions {
  /**
   * The caller gives up `sample`'s buffer: a worker session may take it (transfer) instead of a copy. Set it
   * only for a buffer made for this one call and not read afterwards.
   */
  readonly handOverSample?: boolean;
  /** The same for `encoderHiddenStates`. */
  readonly handOverEmbeddings?: boolean;
}

export interface DiffusionModelOptions {
  /** Largest batch sent to one UNet / VAE / text-encoder call; bigger batches are split (bounds memory). */
  readonly maxBatch?: number;
  /** Prompt embeddings kept for reuse, in bytes (default 64 MiB; 0 turns the memo off). */
  readonly promptMemoBytes?: number;
}

/** session.run calls made so far, per component (for tests and the bench: machine-independent costs). */
export interface ModelCallCounts {
  textEncoder: number;
  unet: number;
  vaeEncoder: number;
  vaeDecoder: number;
}

export const DEFAULT_PROMPT_MEMO_BYTES = 64 * 1024 * 1024;

interface Components {
  textEncoder: ModelSession;
  unet: ModelSession;
  vaeEncoder: ModelSession;
  vaeDecoder: ModelSession;
}

/** Prompt texts whose token counts a model remembers at most (a few hundred bytes each). */
const TOKEN_COUNT_MEMO_SIZE = 256;

/** Stable Diffusion in optimum's ONNX layout; dtypes and ranks are read from the sessions, never assumed. */
export class DiffusionModel {
  /** Its manager keeps it loaded: the output cache counts it as 0 bytes and does not walk it. */
  readonly [HELD_ELSEWHERE] = true;
  readonly name: string;
  readonly maxBatch: number | undefined;
  /** session.run calls per component since load (a batch split by maxBatch counts each part). */
  readonly calls: ModelCallCounts = { textEncoder: 0, unet: 0, vaeEncoder: 0, vaeDecoder: 0 };
  /**
   * Embedding rows [1, L, D] by prompt text, least recently used first: every node of a run (and every later
   * run) asks the text encoder for the same few prompts, so each distinct prompt is encoded once.
   */
  private readonly promptMemo = new Map<string, Tensor>();
  private promptMemoUsed = 0;
  /**
   * Token counts by prompt text: every guided node checks its prompts' lengths on every run (a tokenization
   * each, ~0.1 ms of main-thread CPU); emptied when it reaches TOKEN_COUNT_MEMO_SIZE texts.
   */
  private readonly tokenCounts = new Map<string, number>();
  private readonly promptMemoBytes: number;

  private constructor(
    readonly folder: string,
    private readonly sessions: Components,
    readonly tokenizer: TextTokenizer,
    readonly schedulerConfig: JsonObject,
    readonly scalingFactor: number,
    readonly latentChannels: number,
    readonly vaeScaleFactor: number,
    readonly maxLength: number,
    readonly padTokenId: number,
    private embeddingDimValue: number | undefined,
    options: DiffusionModelOptions,
  ) {
    this.name = basename(folder);
    this.maxBatch = options.maxBatch;
    this.promptMemoBytes = options.promptMemoBytes ?? DEFAULT_PROMPT_MEMO_BYTES;
  }

  static async load(
    folder: string,
    pool: SessionPool,
    options: DiffusionModelOptions = {},
  ): Promise<DiffusionModel> {
    const schedulerConfig = await readJsonFile(folder, DIFFUSION_FILES.scheduler);
    checkSchedulerConfig(folder, schedulerConfig);
    const tokenizer = await TextTokenizer.fromFolder(join(folder, 'tokenizer'));
    const vaeDecoderConfig = await readOptionalJson(folder, 'vae_decoder/config.json');
    const vaeEncoderConfig = await readOptionalJson(folder, 'vae_encoder/config.json');
    const unetConfig = await readOptionalJson(folder, 'unet/config.json');
    const textConfig = await readOptionalJson(folder, 'text_encoder/config.json');
    const [textEncoder, unet, vaeEncoder, vaeDecoder] = await Promise.all([
      openComponent(pool, folder, DIFFUSION_FILES.textEncoder),
      openComponent(pool, folder, DIFFUSION_FILES.unet),
      openComponent(pool, folder, DIFFUSION_FILES.vaeEncoder),
      openComponent(pool, folder, DIFFUSION_FILES.vaeDecoder),
    ]);
    const sessions = { textEncoder, unet, vaeEncoder, vaeDecoder };

    const ids = requireSpec(textEncoder, 'input', ['input_ids'], folder, DIFFUSION_FILES.textEncoder);
    const sample = requireSpec(unet, 'input', ['sample'], folder, DIFFUSION_FILES.unet);
    requireSpec(unet, 'input', ['timestep'], folder, DIFFUSION_FILES.unet);
    const hidden = requireSpec(unet, 'input', ['encoder_hidden_states'], folder, DIFFUSION_FILES.unet);
    requireSpec(vaeEncoder, 'input', ['sample'], folder, DIFFUSION_FILES.vaeEncoder);
    requireSpec(
      vaeEncoder,
      'output',
      ['latent_parameters', 'latent_sample'],
      folder,
      DIFFUSION_FILES.vaeEncoder,
    );
    const latent = requireSpec(vaeDecoder, 'input', ['latent_sample'], folder, DIFFUSION_FILES.vaeDecoder);
    const sdxl = 'Stable Diffusion 1.x/2.x exports are supported';
    rejectUnknownInputs(textEncoder, ['input_ids', 'attention_mask'], folder, DIFFUSION_FILES.textEncoder);
    rejectUnknownInputs(
      unet,
      ['sample', 'timestep', 'encoder_hidden_states'],
      folder,
      DIFFUSION_FILES.unet,
      sdxl,
    );
    rejectUnknownInputs(vaeEncoder, ['sample'], folder, DIFFUSION_FILES.vaeEncoder);
    rejectUnknownInputs(vaeDecoder, ['latent_sample'], folder, DIFFUSION_FILES.vaeDecoder);

    const scalingFactor =
      numberField(vaeDecoderConfig, 'scaling_factor') ??
      numberField(vaeEncoderConfig, 'scaling_factor') ??
      // diffusers' default for SD 1.x/2.x when a VAE config does not name its scaling factor
      SD_VAE_SCALING_FACTOR;
    const blocks = (vaeDecoderConfig ?? vaeEncoderConfig)?.block_out_channels;
    const vaeScaleFactor = Array.isArray(blocks) && blocks.length > 0 ? 2 ** (blocks.length - 1) : 8;
    const latentChannels =
      fixedDim(sample, 1) ??
      fixedDim(latent, 1) ??
      numberField(unetConfig, 'in_channels') ??
      numberField(vaeDecoderConfig, 'latent_channels') ??
      4;
    const maxLength = tokenizer.info.modelMaxLength ?? fixedDim(ids, 1) ?? 77;
    // SD 1.x pads with eos, SD 2.x with "!" (id 0): the tokenizer files say which.
    const eos = tokenizer.encode('').at(-1);
    const padTokenId = tokenizer.padTokenId(eos);
    const textOut = findSpec(textEncoder.outputs, 'last_hidden_state') ?? textEncoder.outputs[0];
    const embeddingDim =
      fixedDim(textOut, 2) ?? fixedDim(hidden, 2) ?? numberField(textConfig, 'hidden_size') ?? undefined;
    return new DiffusionModel(
      folder,
      sessions,
      tokenizer,
      schedulerConfig,
      scalingFactor,
      latentChannels,
      vaeScaleFactor,
      maxLength,
      padTokenId,
      embeddingDim,
      options,
    );
  }

  /** Width of the prompt embeddings (the text encoder's hidden size). */
  get embeddingDim(): number {
    if (this.embeddingDimValue === undefined) {
      throw new ModelError(
        'model_io_mismatch',
        this.folder,
        DIFFUSION_FILES.textEncoder,
        'embedding width unknown until the first encodePrompt (no fixed dim and no text_encoder/config.json)',
      );
    }
    return this.embeddingDimValue;
  }

  /**
   * True when the VAE encoder draws the posterior sample inside the graph (`latent_sample`, older optimum
   * exports): its draws ignore any seed, and each row of a batch is an independent draw.
   */
  get samplesPosteriorInGraph(): boolean {
    return findSpec(this.sessions.vaeEncoder.outputs, 'latent_parameters') === undefined;
  }

  /** Execution provider of each component session. */
  get providers(): Record<keyof Components, string> {
    const s = this.sessions;
    return {
      textEncoder: s.textEncoder.provider,
      unet: s.unet.provider,
      vaeEncoder: s.vaeEncoder.provider,
      vaeDecoder: s.vaeDecoder.provider,
    };
  }

  /** How many tokens a prompt takes (bos and eos included); more than maxLength are cut off by tokenize. */
  promptTokenCount(text: string): number {
    let count = this.tokenCounts.get(text);
    if (count === undefined) {
      count = this.tokenizer.encode(text).length;
      if (this.tokenCounts.size >= TOKEN_COUNT_MEMO_SIZE) this.tokenCounts.clear();
      this.tokenCounts.set(text, count);
    }
    return count;
  }

  /** CLIP ids padded/truncated to maxLength with the checkpoint's pad token (padding="max_length"). */
  tokenize(texts: readonly string[]): number[][] {
    return texts.map((t) => this.tokenizer.encodePadded(t, this.maxLength, this.padTokenId));
  }

  /**
   * Prompt embeddings [B, maxLength, D]: the text encoder's last_hidden_state. Each distinct text is encoded
   * once and remembered (see promptMemoBytes); the result is always a fresh tensor the caller may modify.
   */
  async encodePrompt(texts: readonly string[], options: ModelCallOptions = {}): Promise<Tensor> {
    if (texts.length === 0) throw new RangeError('encodePrompt: no prompt given');
    const missing = [...new Set(texts.filter((t) => !this.promptMemo.has(t)))];
    const fresh = new Map<string, Tensor>();
    if (missing.length > 0) {
      const encoded = await this.runTextEncoder(missing, options.signal);
      // each row copied out, so that a memo entry holds only its own bytes
      missing.forEach((text, i) => fresh.set(text, sliceRows(encoded, i, i + 1).clone()));
    }
    const rows = texts.map((text) => this.rememberPrompt(text, fresh.get(text)));
    const [, length, width] = rows[0].dims;
    const out = new Tensor([rows.length, length, width]);
    rows.forEach((row, i) => out.data.set(row.data, i * row.size));
    return out;
  }

  /** Returns the memo's row for `text` (storing `encoded` when given), most recently used last. */
  private rememberPrompt(text: string, encoded: Tensor | undefined): Tensor {
    const known = this.promptMemo.get(text);
    const row = known ?? (encoded as Tensor);
    if (known !== undefined) this.promptMemo.delete(text);
    else if (row.byteLength > this.promptMemoBytes) return row;
    else this.promptMemoUsed += row.byteLength;
    this.promptMemo.set(text, row);
    for (const [oldest, value] of this.promptMemo) {
      if (this.promptMemoUsed <= this.promptMemoBytes) break;
      this.promptMemo.delete(oldest);
      this.promptMemoUsed -= value.byteLength;
    }
    return row;
  }

  private async runTextEncoder(texts: readonly string[], signal: AbortSignal | undefined): Promise<Tensor> {
    const session = this.sessions.textEncoder;
    const ids = this.tokenize(texts);
    const idSpec = findSpec(session.inputs, 'input_ids') as IoSpec;
    const maskSpec = findSpec(session.inputs, 'attention_mask');
    const outName = (findSpec(session.outputs, 'last_hidden_state') ?? session.outputs[0]).name;
    const embeddings = await this.runChunked('textEncoder', ids.length, outName, signal, (start, end) => {
      const rows = ids.slice(start, end);
      const dims = [rows.length, this.maxLength];
      const feeds: WireFeeds = { input_ids: numberFeed(intType(idSpec, this), dims, rows.flat()) };
      if (maskSpec !== undefined) {
        // 1 for bos … eos, 0 for the padding, as the tokenizer's attention mask would be.
        const mask = texts.slice(start, end).flatMap((t) => {
          const used = Math.min(this.tokenizer.encode(t).length, this.maxLength);
          return Array.from({ length: this.maxLength }, (_, i) => (i < used ? 1 : 0));
        });
        feeds.attention_mask = numberFeed(intType(maskSpec, this), dims, mask);
      }
      return feeds;
    });
    this.embeddingDimValue ??= embeddings.dims[2];
    return embeddings;
  }

  /**
   * One UNet call: noise prediction for `sample` [B,C,h,w] at `timestep` (one value, or one per row) with
   * `encoderHiddenStates` [B,77,D]. The timestep is fed as the export declares it: int64 [B] (older exports),
   * a float/float16 scalar (newer ones), or float [B] / [1].
   */
  async unet(
    sample: Tensor,
    timestep: number | readonly number[],
    encoderHiddenStates: Tensor,
    options: UnetCallOptions = {},
  ): Promise<Tensor> {
    const session = this.sessions.unet;
    const batch = sample.dims[0];
    if (encoderHiddenStates.dims[0] !== batch) {
      throw new RangeError(
        `unet: encoder_hidden_states batch ${encoderHiddenStates.dims[0]} does not match the sample batch ${batch}`,
      );
    }
    const steps = typeof timestep === 'number' ? new Array<number>(batch).fill(timestep) : [...timestep];
    if (steps.length !== batch)
      throw new RangeError(`unet: ${steps.length} timesteps for a batch of ${batch}`);
    const io = this.unetIo;
    const copy = session.transfersInputs;
    return this.runChunked('unet', batch, io.outName, options.signal, (start, end) => {
      const x = sliceRows(sample, start, end);
      const h = sliceRows(encoderHiddenStates, start, end);
      return unetFeeds(
        io,
        x,
        steps.slice(start, end),
        h,
        copy && !(options.handOverSample === true && isWhole(x.data)),
        copy && !(options.handOverEmbeddings === true && isWhole(h.data)),
      );
    });
  }

  /** The UNet session's input types and output name (what a program needs to feed it). */
  get unetIo(): UnetIo {
    return unetIo(this.sessions.unet, this.folder);
  }

  /**
   * Runs a loop program next to the UNet session (in the model worker, or on this thread in-process): its UNet
   * calls count in `calls` and reach the session's observers as calls through unet() do.
   */
  runUnetProgram<I, O>(
    program: ProgramRef<I, O>,
    invocation: Omit<ProgramInvocation<I>, 'sessions'>,
  ): Promise<O> {
    return runProgram(program, { ...invocation, sessions: this.countedSessions(['unet']) });
  }

  /**
   * Runs a program next to both the UNet and the VAE decoder (a loop and the decode of its result in one
   * request): their calls count in `calls` and reach each session's observers as runUnetProgram's and
   * runVaeProgram's do. Undefined when the two sessions are not in one backend that runs programs.
   */
  runUnetDecoderProgram<I, O>(
    program: ProgramRef<I, O>,
    invocation: Omit<ProgramInvocation<I>, 'sessions'>,
  ): Promise<O> | undefined {
    const sessions = this.countedSessions(['unet', 'vaeDecoder']);
    if (!canRunProgram(sessions)) return undefined;
    return runProgram(program, { ...invocation, sessions });
  }

  /** The sessions in `roles`, by role, with each call a program makes on them counted in `calls`. */
  private countedSessions(roles: readonly (keyof ModelCallCounts)[]): Record<string, ModelSession> {
    const sessions: Record<string, ModelSession> = {};
    for (const role of roles) {
      sessions[role] = observingProgramCalls(this.sessions[role], () => {
        this.calls[role]++;
      });
    }
    return sessions;
  }

  /** How a program calls the VAE encoder as vaeEncode does (see nodes/diffedit/vae-programs.ts). */
  get vaeEncoderIo(): VaeCallIo {
    const session = this.sessions.vaeEncoder;
    const file = DIFFUSION_FILES.vaeEncoder;
    const spec = findSpec(session.inputs, 'sample') as IoSpec;
    const params = findSpec(session.outputs, 'latent_parameters');
    return {
      inputName: 'sample',
      inputType: floatType(spec, this, file),
      outName: params !== undefined ? params.name : 'latent_sample',
    };
  }

  /** How a program calls the VAE decoder as vaeDecode does. */
  get vaeDecoderIo(): VaeCallIo {
    const session = this.sessions.vaeDecoder;
    const spec = findSpec(session.inputs, 'latent_sample') as IoSpec;
    return {
      inputName: 'latent_sample',
      inputType: floatType(spec, this, DIFFUSION_FILES.vaeDecoder),
      outName: (findSpec(session.outputs, 'sample') ?? session.outputs[0]).name,
    };
  }

  /**
   * Runs a program next to the VAE session `role` (in the model worker, or on this thread in-process): its
   * calls count in `calls` and reach the session's observers as vaeEncode's / vaeDecode's do. Undefined when
   * the session's backend cannot run programs (the caller then converts here and calls vaeEncode/vaeDecode).
   */
  runVaeProgram<I, O>(
    role: 'vaeEncoder' | 'vaeDecoder',
    program: ProgramRef<I, O>,
    invocation: Omit<ProgramInvocation<I>, 'sessions'>,
  ): Promise<O> | undefined {
    const sessions = this.countedSessions([role]);
    if (!canRunProgram(sessions)) return undefined;
    return runProgram(program, { ...invocation, sessions });
  }

  /** Image [B,3,H,W] in [-1,1] → posterior parameters or a sample (see VaeEncoding); unscaled. */
  async vaeEncode(image: Tensor, options: ModelCallOptions = {}): Promise<VaeEncoding> {
    const session = this.sessions.vaeEncoder;
    const file = DIFFUSION_FILES.vaeEncoder;
    const spec = findSpec(session.inputs, 'sample') as IoSpec;
    const params = findSpec(session.outputs, 'latent_parameters');
    const outName = params !== undefined ? params.name : 'latent_sample';
    const result = await this.runChunked(
      'vaeEncoder',
      image.dims[0],
      outName,
      options.signal,
      (start, end) => {
        const x = sliceRows(image, start, end);
        const copy = session.transfersInputs && !(options.handOverInput === true && isWhole(x.data));
        return { sample: floatFeed(floatType(spec, this, file), x.dims, x.data, copy) };
      },
    );
    return this.vaeEncodingOf(result);
  }

  /** The VAE encoder's output (float32, rows stacked) as vaeEncode returns it: logvar clamped to [-30, 20]. */
  vaeEncodingOf(result: Tensor): VaeEncoding {
    const file = DIFFUSION_FILES.vaeEncoder;
    if (findSpec(this.sessions.vaeEncoder.outputs, 'latent_parameters') === undefined) {
      return { kind: 'sample', sample: result };
    }
    const [b, c2, h, w] = result.dims;
    if (result.rank !== 4 || c2 % 2 !== 0) {
      throw new ModelError(
        'model_io_mismatch',
        this.folder,
        file,
        `latent_parameters has shape [${result.dims}]`,
      );
    }
    const c = c2 / 2;
    const plane = c * h * w;
    const mean = new Float32Array(b * plane);
    const logvar = new Float32Array(b * plane);
    for (let i = 0; i < b; i++) {
      mean.set(result.data.subarray(i * 2 * plane, i * 2 * plane + plane), i * plane);
      const lv = result.data.subarray(i * 2 * plane + plane, (i + 1) * 2 * plane);
      for (let j = 0; j < plane; j++) logvar[i * plane + j] = Math.min(20, Math.max(-30, lv[j]));
    }
    return {
      kind: 'parameters',
      mean: new Tensor([b, c, h, w], mean),
      logvar: new Tensor([b, c, h, w], logvar),
    };
  }

  /** Latents [B,C,h,w] (already divided by the scaling factor) → image [B,3,H,W] in about [-1,1]. */
  async vaeDecode(latents: Tensor, options: ModelCallOptions = {}): Promise<Tensor> {
    const session = this.sessions.vaeDecoder;
    const spec = findSpec(session.inputs, 'latent_sample') as IoSpec;
    const outName = (findSpec(session.outputs, 'sample') ?? session.outputs[0]).name;
    return this.runChunked('vaeDecoder', latents.dims[0], outName, options.signal, (start, end) => {
      const z = sliceRows(latents, start, end);
      const type = floatType(spec, this, DIFFUSION_FILES.vaeDecoder);
      const copy = session.transfersInputs && !(options.handOverInput === true && isWhole(z.data));
      return { latent_sample: floatFeed(type, z.dims, z.data, copy) };
    });
  }

  /**
   * Runs `session` on rows [start, end) of a batch, at most maxBatch rows a call (the feeds of each call come
   * from `feeds`), and stacks the `outName` outputs along axis 0.
   */
  private async runChunked(
    component: keyof Components,
    batch: number,
    outName: string,
    signal: AbortSignal | undefined,
    feeds: (start: number, end: number) => WireFeeds,
  ): Promise<Tensor> {
    const session = this.sessions[component];
    const parts: Tensor[] = [];
    for (const [start, end] of batchChunks(batch, this.maxBatch)) {
      throwIfAborted(signal);
      this.calls[component]++;
      const out = await session.run(feeds(start, end), { signal, outputs: [outName] });
      parts.push(wireToTensor(out[outName]));
    }
    return concatRows(parts);
  }
}

/** Whether `data` spans its whole buffer: only such a buffer travels as it is (a view would be cloned whole). */
const isWhole = (data: Float32Array): boolean => wholeBuffer(data) !== undefined;

function floatType(spec: IoSpec, model: DiffusionModel, file: string): WireDType {
  if (isFloatType(spec.type)) return spec.type;
  throw new ModelError(
    'model_io_mismatch',
    model.folder,
    file,
    `input ${spec.name} has type ${spec.type}, expected float`,
  );
}

function intType(spec: IoSpec, model: DiffusionModel): WireDType {
  if (isIntType(spec.type)) return spec.type;
  throw new ModelError(
    'model_io_mismatch',
    model.folder,
    DIFFUSION_FILES.textEncoder,
    `input ${spec.name} has type ${spec.type}, expected int32 or int64`,
  );
}

/**
 * Builds the DDIM schedulers the DiffEdit nodes will build from the export's scheduler_config.json, so that a
 * config with wrong values fails when the model loads (and `models --probe` says so), naming the file, rather
 * than in the middle of a run.
 */
function checkSchedulerConfig(folder: string, raw: JsonObject): void {
  try {
    // clip_sample: as diffEditSchedulerConfig supplies it when absent
    const config = resolveSchedulerConfig({ clip_sample: false, ...raw }, DIFFUSION_FILES.scheduler);
    new DDIMScheduler(config).setTimesteps(Math.min(50, config.num_train_timesteps));
    new DDIMInverseScheduler(config).setTimesteps(Math.min(50, config.num_train_timesteps));
  } catch (error) {
    throw new ModelError(
      'model_file_invalid',
      folder,
      DIFFUSION_FILES.scheduler,
      `not a usable scheduler config: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
}
