import { basename, join, relative, sep } from 'node:path';
import { HELD_ELSEWHERE, SeededRng } from '@diffedit/core';
import { openComponent, requireSpec } from './component-session.js';
import type { IoSpec } from './io-spec.js';
import { findSpec, isFloatType, isIntType } from './io-spec.js';
import { ModelError, throwIfAborted } from './model-errors.js';
import type { JsonObject } from './model-files.js';
import {
  exportSubdir,
  fileExists,
  idListField,
  numberField,
  readJsonFile,
  readOptionalJson,
} from './model-files.js';
import type { ModelSession } from './model-session.js';
import type { SessionPool } from './session-pool.js';
import { TextTokenizer } from './text-tokenizer.js';
import { argmax, sampleToken } from './token-sampling.js';
import type { WireDType, WireFeeds, WireTensor } from './wire-tensor.js';
import { floatFeed, numberFeed, wireTensor, wireToFloat32 } from './wire-tensor.js';

export const T5_FILES = {
  encoder: 'encoder_model.onnx',
  decoder: 'decoder_model.onnx',
  merged: 'decoder_model_merged.onnx',
} as const;

export interface T5GenerateOptions {
  /** Sample (seeded) instead of greedy decoding. Default false. */
  readonly doSample?: boolean;
  readonly temperature?: number;
  readonly topK?: number;
  /** Sequences to return; sampling only (greedy gives one), default 16 when sampling. */
  readonly numReturnSequences?: number;
  readonly maxNewTokens?: number;
  readonly seed?: number | bigint;
  readonly signal?: AbortSignal;
  /** Called after each decoding step (a node's progress). */
  readonly onStep?: (step: number, maxNewTokens: number) => void;
}

export const T5_SAMPLING_DEFAULTS = {
  temperature: 0.8,
  topK: 10,
  numReturnSequences: 16,
  maxNewTokens: 128,
} as const;

export interface T5ModelOptions {
  /** Which decoder file to use when both exist; 'auto' prefers the merged one (it caches). */
  readonly decoder?: 'auto' | 'merged' | 'plain';
}

/** Where the ONNX files of a T5 folder are: the folder itself, or its onnx/ subfolder (transformers.js). */
export function t5OnnxDir(folder: string): string | undefined {
  return exportSubdir(
    folder,
    (at) =>
      fileExists(at, T5_FILES.encoder) &&
      (fileExists(at, T5_FILES.decoder) || fileExists(at, T5_FILES.merged)),
  );
}

interface Ids {
  decoderStart: number;
  eos: number[];
  pad: number;
}

/** Flan-T5 in the optimum / transformers.js layout: encoder + (merged, cached | plain) decoder. */
export class T5Model {
  /** Its manager keeps it loaded: the output cache counts it as 0 bytes and does not walk it. */
  readonly [HELD_ELSEWHERE] = true;
  readonly name: string;

  private constructor(
    readonly folder: string,
    readonly tokenizer: TextTokenizer,
    private readonly encoder: ModelSession,
    private readonly decoder: ModelSession,
    readonly decoderKind: 'merged' | 'plain',
    private readonly decoderFile: string,
    private readonly ids: Ids,
    private readonly config: JsonObject,
  ) {
    this.name = basename(folder);
  }

  static async load(folder: string, pool: SessionPool, options: T5ModelOptions = {}): Promise<T5Model> {
    const dir = t5OnnxDir(folder);
    if (dir === undefined) {
      throw new ModelError(
        'model_file_missing',
        folder,
        T5_FILES.encoder,
        `a T5 export needs ${T5_FILES.encoder} and ${T5_FILES.decoder} or ${T5_FILES.merged} (in the folder or onnx/)`,
      );
    }
    const rel = (file: string): string => (dir === '' ? file : `${dir}/${file}`);
    const at = join(folder, dir);
    const hasMerged = fileExists(at, T5_FILES.merged);
    const hasPlain = fileExists(at, T5_FILES.decoder);
    const choice = options.decoder ?? 'auto';
    const kind = choice === 'auto' ? (hasMerged ? 'merged' : 'plain') : choice;
    const decoderFile = rel(kind === 'merged' ? T5_FILES.merged : T5_FILES.decoder);
    if ((kind === 'merged' && !hasMerged) || (kind === 'plain' && !hasPlain)) {
      throw new ModelError('model_file_missing', folder, decoderFile, `missing the ${kind} T5 decoder`);
    }
    const config = await readJsonFile(folder, 'config.json');
    const generation = await readOptionalJson(folder, 'generation_config.json');
    const tokenizer = await TextTokenizer.fromFolder(folder);
    const [encoder, decoder] = await Promise.all([
      openComponent(pool, folder, rel(T5_FILES.encoder)),
      openComponent(pool, folder, decoderFile),
    ]);
    requireSpec(encoder, 'input', ['input_ids'], folder, rel(T5_FILES.encoder));
    requireSpec(encoder, 'output', ['last_hidden_state'], folder, rel(T5_FILES.encoder));
    for (const name of ['input_ids', 'encoder_hidden_states'])
      requireSpec(decoder, 'input', [name], folder, decoderFile);
    requireSpec(decoder, 'output', ['logits'], folder, decoderFile);
    if (kind === 'merged') requireSpec(decoder, 'input', ['use_cache_branch'], folder, decoderFile);
    const eos = idListField(generation, 'eos_token_id') ?? idListField(config, 'eos_token_id') ?? [1];
    const ids: Ids = {
      decoderStart:
        numberField(generation, 'decoder_start_token_id') ??
        numberField(config, 'decoder_start_token_id') ??
        0,
      eos,
      pad: numberField(generation, 'pad_token_id') ?? numberField(config, 'pad_token_id') ?? 0,
    };
    return new T5Model(folder, tokenizer, encoder, decoder, kind, decoderFile, ids, config);
  }

  get providers(): { encoder: string; decoder: string } {
    return { encoder: this.encoder.provider, decoder: this.decoder.provider };
  }

  /**
   * Generates continuations of `instruction`: greedy (one sequence) unless `doSample`, in which case
   * `numReturnSequences` sequences are sampled with temperature and top-k from a generator seeded by `seed`.
   * Returns the decoded texts without special tokens.
   */
  async generate(instruction: string, options: T5GenerateOptions = {}): Promise<string[]> {
    const doSample = options.doSample ?? false;
    const temperature = options.temperature ?? T5_SAMPLING_DEFAULTS.temperature;
    const topK = options.topK ?? T5_SAMPLING_DEFAULTS.topK;
    const maxNewTokens = options.maxNewTokens ?? T5_SAMPLING_DEFAULTS.maxNewTokens;
    const count = options.numReturnSequences ?? (doSample ? T5_SAMPLING_DEFAULTS.numReturnSequences : 1);
    if (!doSample && count !== 1) {
      throw new RangeError('greedy T5 generation returns one sequence; set doSample to return several');
    }
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError(`numReturnSequences must be ≥ 1, got ${count}`);
    const rng = new SeededRng(options.seed ?? 0);
    const signal = options.signal;

    let prompt = this.tokenizer.encode(instruction);
    // truncation=True: keep the start and the closing </s> within the tokenizer's limit
    const limit = this.tokenizer.info.modelMaxLength;
    if (limit !== undefined && prompt.length > limit)
      prompt = [...prompt.slice(0, limit - 1), prompt[prompt.length - 1]];
    const hidden = await this.encode(prompt, signal);
    const d = hidden.length / prompt.length;
    const tiled = new Float32Array(count * hidden.length);
    for (let b = 0; b < count; b++) tiled.set(hidden, b * hidden.length);
    const encoderMask = new Array<number>(count * prompt.length).fill(1);

    const sequences: number[][] = Array.from({ length: count }, () => [this.ids.decoderStart]);
    const finished = new Array<boolean>(count).fill(false);
    let cache: { decoder: WireFeeds; encoder: WireFeeds } | undefined;
    for (let step = 0; step < maxNewTokens && !finished.every(Boolean); step++) {
      throwIfAborted(signal);
      options.onStep?.(step + 1, maxNewTokens);
      const feeds = this.decoderFeeds(sequences, tiled, [count, prompt.length, d], encoderMask, cache);
      const wanted = this.decoderKind === 'merged' ? undefined : ['logits'];
      const out = await this.decoder.run(
        feeds,
        wanted === undefined ? { signal } : { signal, outputs: wanted },
      );
      const logits = out.logits;
      if (logits === undefined)
        throw new ModelError('model_io_mismatch', this.folder, this.decoderFile, 'no logits');
      const [, t, v] = logits.dims;
      const values = wireToFloat32(logits);
      for (let b = 0; b < count; b++) {
        let token: number;
        if (finished[b]) token = this.ids.pad;
        else {
          const row = values.subarray((b * t + t - 1) * v, (b * t + t) * v);
          token = doSample ? sampleToken(row, temperature, topK, rng) : argmax(row);
          if (this.ids.eos.includes(token)) finished[b] = true;
        }
        sequences[b].push(token);
      }
      if (this.decoderKind === 'merged') cache = this.nextCache(out, cache);
    }
    return sequences.map((s) => this.tokenizer.decode(s, true).trim());
  }

  private async encode(prompt: readonly number[], signal: AbortSignal | undefined): Promise<Float32Array> {
    const dims = [1, prompt.length];
    const feeds: WireFeeds = { input_ids: numberFeed(this.intType(this.encoder, 'input_ids'), dims, prompt) };
    if (findSpec(this.encoder.inputs, 'attention_mask') !== undefined) {
      feeds.attention_mask = numberFeed(
        this.intType(this.encoder, 'attention_mask'),
        dims,
        prompt.map(() => 1),
      );
    }
    const out = await this.encoder.run(feeds, { signal, outputs: ['last_hidden_state'] });
    return wireToFloat32(out.last_hidden_state).slice();
  }

  private decoderFeeds(
    sequences: readonly number[][],
    hidden: Float32Array,
    hiddenDims: number[],
    encoderMask: number[],
    cache: { decoder: WireFeeds; encoder: WireFeeds } | undefined,
  ): WireFeeds {
    const s = this.decoder;
    const copy = s.transfersInputs;
    const batch = sequences.length;
    // Without a cache the decoder sees the whole sequence; with one, only the newest token.
    const rows =
      cache === undefined && this.decoderKind === 'plain' ? sequences : sequences.map((q) => q.slice(-1));
    const feeds: WireFeeds = {
      input_ids: numberFeed(this.intType(s, 'input_ids'), [batch, rows[0].length], rows.flat()),
      encoder_hidden_states: floatFeed(this.floatType(s, 'encoder_hidden_states'), hiddenDims, hidden, copy),
    };
    if (findSpec(s.inputs, 'encoder_attention_mask') !== undefined) {
      const type = this.intType(s, 'encoder_attention_mask');
      feeds.encoder_attention_mask = numberFeed(type, [batch, hiddenDims[1]], encoderMask);
    }
    if (this.decoderKind === 'merged') {
      feeds.use_cache_branch = numberFeed('bool', [1], [cache === undefined ? 0 : 1]);
      for (const spec of s.inputs.filter((x) => x.name.startsWith('past_key_values.'))) {
        const present = cache?.decoder[spec.name] ?? cache?.encoder[spec.name];
        if (present === undefined) feeds[spec.name] = this.emptyPast(spec, batch);
        // Encoder entries are fed at every step: copy them when the worker would detach the buffer.
        else
          feeds[spec.name] =
            copy && spec.name.includes('.encoder.') ? { ...present, data: present.data.slice() } : present;
      }
    }
    return feeds;
  }

  /** Step 0 of a merged decoder: 0-length past tensors shaped from the input metadata and config.json. */
  private emptyPast(spec: IoSpec, batch: number): WireTensor {
    const heads = numberField(this.config, 'num_heads');
    const dkv = numberField(this.config, 'd_kv');
    const dims = spec.shape.map((d, axis) => {
      if (axis === 0) return batch;
      if (axis === 2) return 0;
      if (typeof d === 'number' && d > 0) return d;
      const fromConfig = axis === 1 ? heads : dkv;
      if (fromConfig === undefined) {
        throw new ModelError(
          'model_file_invalid',
          this.folder,
          'config.json',
          `num_heads/d_kv needed for ${spec.name}`,
        );
      }
      return fromConfig;
    });
    if (!isFloatType(spec.type)) {
      throw new ModelError(
        'model_io_mismatch',
        this.folder,
        this.decoderFile,
        `${spec.name} has type ${spec.type}`,
      );
    }
    return wireTensor(spec.type, dims, spec.type === 'float16' ? new Uint16Array(0) : new Float32Array(0));
  }

  /** Decoder self-attention entries come from each step; encoder entries are kept from step 0. */
  private nextCache(
    out: WireFeeds,
    cache: { decoder: WireFeeds; encoder: WireFeeds } | undefined,
  ): { decoder: WireFeeds; encoder: WireFeeds } {
    const decoder: WireFeeds = {};
    const encoder: WireFeeds = cache?.encoder ?? {};
    for (const [name, t] of Object.entries(out)) {
      if (!name.startsWith('present.')) continue;
      const past = `past_key_values.${name.slice('present.'.length)}`;
      if (name.includes('.encoder.')) {
        if (cache === undefined) encoder[past] = t;
      } else decoder[past] = t;
    }
    return { decoder, encoder };
  }

  private intType(session: ModelSession, name: string): WireDType {
    const spec = findSpec(session.inputs, name);
    if (spec !== undefined && isIntType(spec.type)) return spec.type;
    const file = relative(this.folder, session.path).split(sep).join('/');
    throw new ModelError('model_io_mismatch', this.folder, file, `input ${name} must be int32 or int64`);
  }

  private floatType(session: ModelSession, name: string): WireDType {
    const spec = findSpec(session.inputs, name);
    if (spec !== undefined && isFloatType(spec.type)) return spec.type;
    throw new ModelError('model_io_mismatch', this.folder, this.decoderFile, `input ${name} must be float`);
  }
}
