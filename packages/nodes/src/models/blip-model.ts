import { basename } from 'node:path';
import { HELD_ELSEWHERE } from '@diffedit/core';
import type { Tensor } from '@diffedit/core';
import type { CaptionImage } from './blip-image-processor.js';
import { blipImageSettings, blipPixelValues, readImageProcessorConfig } from './blip-image-processor.js';
import type { BlipImageSettings } from './blip-image-processor.js';
import { openComponent, requireSpec } from './component-session.js';
import type { IoSpec } from './io-spec.js';
import { findSpec, isFloatType, isIntType } from './io-spec.js';
import { ModelError, throwIfAborted } from './model-errors.js';
import type { JsonObject } from './model-files.js';
import { exportSubdir, fileExists, numberField, readOptionalJson } from './model-files.js';
import type { ModelSession } from './model-session.js';
import type { SessionPool } from './session-pool.js';
import { TextTokenizer } from './text-tokenizer.js';
import { argmax } from './token-sampling.js';
import type { WireDType, WireFeeds } from './wire-tensor.js';
import { floatFeed, numberFeed, wireToFloat32 } from './wire-tensor.js';

export const BLIP_FILES = { vision: 'vision_model.onnx', decoder: 'text_decoder.onnx' } as const;

export interface BlipCaptionOptions {
  /** Conditional captioning prefix; the returned caption starts with it. Default 'a photograph of'. */
  readonly prompt?: string;
  readonly maxNewTokens?: number;
  readonly signal?: AbortSignal;
  /** Called after each decoding step (a node's progress). */
  readonly onStep?: (step: number, maxNewTokens: number) => void;
}

export const BLIP_CAPTION_DEFAULTS = { prompt: 'a photograph of', maxNewTokens: 128 } as const;

/** Where BLIP's two ONNX files are: the folder itself or its onnx/ subfolder. */
export function blipOnnxDir(folder: string): string | undefined {
  return exportSubdir(
    folder,
    (at) => fileExists(at, BLIP_FILES.vision) && fileExists(at, BLIP_FILES.decoder),
  );
}

interface BlipIds {
  bos: number;
  sep: number;
  pad: number;
}

/**
 * BLIP image captioning as two exports: the vision model (pixel_values → last_hidden_state) and the text decoder
 * (input_ids, attention_mask, encoder_hidden_states → logits), decoded greedily with BLIP's rules.
 */
export class BlipModel {
  /** Its manager keeps it loaded: the output cache counts it as 0 bytes and does not walk it. */
  readonly [HELD_ELSEWHERE] = true;
  readonly name: string;

  private constructor(
    readonly folder: string,
    readonly tokenizer: TextTokenizer,
    private readonly vision: ModelSession,
    private readonly decoder: ModelSession,
    private readonly visionFile: string,
    private readonly decoderFile: string,
    readonly imageSettings: BlipImageSettings,
    private readonly ids: BlipIds,
  ) {
    this.name = basename(folder);
  }

  static async load(folder: string, pool: SessionPool): Promise<BlipModel> {
    const dir = blipOnnxDir(folder);
    if (dir === undefined) {
      const missing = fileExists(folder, BLIP_FILES.vision) ? BLIP_FILES.decoder : BLIP_FILES.vision;
      throw new ModelError(
        'model_file_missing',
        folder,
        missing,
        `a BLIP export needs ${BLIP_FILES.vision} and ${BLIP_FILES.decoder}`,
      );
    }
    const rel = (file: string): string => (dir === '' ? file : `${dir}/${file}`);
    const config = await readOptionalJson(folder, 'config.json');
    const preprocessor = await readImageProcessorConfig(folder);
    const tokenizer = await TextTokenizer.fromFolder(folder);
    const [vision, decoder] = await Promise.all([
      openComponent(pool, folder, rel(BLIP_FILES.vision)),
      openComponent(pool, folder, rel(BLIP_FILES.decoder)),
    ]);
    requireSpec(vision, 'input', ['pixel_values'], folder, rel(BLIP_FILES.vision));
    for (const name of ['input_ids', 'encoder_hidden_states']) {
      requireSpec(decoder, 'input', [name], folder, rel(BLIP_FILES.decoder));
    }
    requireSpec(decoder, 'output', ['logits'], folder, rel(BLIP_FILES.decoder));
    const text = (config?.text_config ?? {}) as JsonObject;
    const ids: BlipIds = {
      // BLIP's [DEC] token starts every caption; [SEP] ends it.
      bos: numberField(text, 'bos_token_id') ?? tokenizer.tokenToId('[DEC]') ?? 30522,
      sep: numberField(text, 'sep_token_id') ?? tokenizer.tokenToId('[SEP]') ?? 102,
      pad: numberField(text, 'pad_token_id') ?? 0,
    };
    return new BlipModel(
      folder,
      tokenizer,
      vision,
      decoder,
      rel(BLIP_FILES.vision),
      rel(BLIP_FILES.decoder),
      blipImageSettings(preprocessor),
      ids,
    );
  }

  get providers(): { vision: string; decoder: string } {
    return { vision: this.vision.provider, decoder: this.decoder.provider };
  }

  /** BLIP's pixel_values for an image (see blipPixelValues). */
  async pixelValues(image: CaptionImage): Promise<Tensor> {
    return blipPixelValues(image, this.imageSettings);
  }

  /**
   * The caption of one image: prompt + greedy continuation, decoded without special tokens (as transformers'
   * `processor.decode(out[0], skip_special_tokens=True)` gives it).
   */
  async caption(image: CaptionImage, options: BlipCaptionOptions = {}): Promise<string> {
    const prompt = options.prompt ?? BLIP_CAPTION_DEFAULTS.prompt;
    const maxNewTokens = options.maxNewTokens ?? BLIP_CAPTION_DEFAULTS.maxNewTokens;
    const signal = options.signal;
    const pixels = await this.pixelValues(image);
    throwIfAborted(signal);
    const pixelSpec = findSpec(this.vision.inputs, 'pixel_values') as IoSpec;
    const visionOut = (findSpec(this.vision.outputs, 'last_hidden_state') ?? this.vision.outputs[0]).name;
    const pixelType = this.floatType(pixelSpec, this.visionFile);
    const feeds = { pixel_values: floatFeed(pixelType, pixels.dims, pixels.data, false) };
    const vision = await this.vision.run(feeds, { signal, outputs: [visionOut] });
    const hiddenWire = vision[visionOut];
    const hidden = wireToFloat32(hiddenWire);

    // BLIP's generate: [DEC] replaces [CLS] and the prompt's trailing [SEP] is dropped.
    const ids = this.tokenizer.encode(prompt);
    ids[0] = this.ids.bos;
    if (ids.length > 1 && ids[ids.length - 1] === this.ids.sep) ids.pop();
    const idSpec = findSpec(this.decoder.inputs, 'input_ids') as IoSpec;
    const hiddenSpec = findSpec(this.decoder.inputs, 'encoder_hidden_states') as IoSpec;
    const maskSpec = findSpec(this.decoder.inputs, 'attention_mask');
    for (let step = 0; step < maxNewTokens; step++) {
      throwIfAborted(signal);
      options.onStep?.(step + 1, maxNewTokens);
      const dims = [1, ids.length];
      const stepFeeds: WireFeeds = {
        input_ids: numberFeed(this.intType(idSpec), dims, ids),
        encoder_hidden_states: floatFeed(
          this.floatType(hiddenSpec, this.decoderFile),
          hiddenWire.dims,
          hidden,
          this.decoder.transfersInputs,
        ),
      };
      if (maskSpec !== undefined)
        stepFeeds.attention_mask = numberFeed(
          this.intType(maskSpec),
          dims,
          ids.map(() => 1),
        );
      const out = await this.decoder.run(stepFeeds, { signal, outputs: ['logits'] });
      const [, t, v] = out.logits.dims;
      const token = argmax(wireToFloat32(out.logits).subarray((t - 1) * v, t * v));
      ids.push(token);
      if (token === this.ids.sep) break;
    }
    const special = new Set([this.ids.bos, this.ids.sep, this.ids.pad]);
    return this.tokenizer
      .decode(
        ids.filter((id) => !special.has(id)),
        true,
      )
      .trim();
  }

  private floatType(spec: IoSpec, file: string): WireDType {
    if (isFloatType(spec.type)) return spec.type;
    throw new ModelError('model_io_mismatch', this.folder, file, `input ${spec.name} must be float`);
  }

  private intType(spec: IoSpec): WireDType {
    if (isIntType(spec.type)) return spec.type;
    throw new ModelError(
      'model_io_mismatch',
      this.folder,
      this.decoderFile,
      `input ${spec.name} must be int32 or int64`,
    );
  }
}
