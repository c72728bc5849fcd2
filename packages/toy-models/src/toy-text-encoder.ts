import { GraphBuilder } from './onnx-builder/index.js';
import { BACKGROUND_WORDS, COLOUR_WORDS, MODIFIER_WORDS, OBJECT_WORDS, TOY_COLOURS } from './vocabulary.js';

/**
 * Layout of a toy token embedding (and of `last_hidden_state`). Colour words and object nouns are kept apart so
 * that an explicit colour wins over a noun's canonical colour ("a green apple" is green).
 */
export const TEXT_EMBEDDING = {
  /** Σ-able colour of colour words (RGB). */
  colourWordRgb: 0,
  /** 1 for a colour word. */
  colourWordFlag: 3,
  /** Canonical colour of object nouns (RGB). */
  nounRgb: 4,
  /** 1 for an object noun with a canonical colour. */
  nounFlag: 7,
  /** 1 for a background noun (background, wall, table, …). */
  backgroundFlag: 8,
  /** 1 for a word that may sit between a colour and a background noun (wooden, dark, plain, …). */
  modifierFlag: 9,
  size: 10,
} as const;

/** Ids the encoder knows, and their embedding rows; every other id embeds to zeros (neutral). */
export function toyEmbeddingTable(): { ids: Int32Array; table: Float32Array } {
  const rows: { id: number; row: number[] }[] = [];
  const E = TEXT_EMBEDDING;
  const row = (): number[] => new Array<number>(E.size).fill(0);
  for (const { id, colour } of Object.values(COLOUR_WORDS)) {
    const r = row();
    r.splice(E.colourWordRgb, 3, ...TOY_COLOURS[colour]);
    r[E.colourWordFlag] = 1;
    rows.push({ id, row: r });
  }
  for (const { id, colour } of Object.values(OBJECT_WORDS)) {
    const r = row();
    r.splice(E.nounRgb, 3, ...TOY_COLOURS[colour]);
    r[E.nounFlag] = 1;
    rows.push({ id, row: r });
  }
  for (const { id } of Object.values(BACKGROUND_WORDS)) {
    const r = row();
    r[E.backgroundFlag] = 1;
    rows.push({ id, row: r });
  }
  for (const { id } of Object.values(MODIFIER_WORDS)) {
    const r = row();
    r[E.modifierFlag] = 1;
    rows.push({ id, row: r });
  }
  rows.sort((a, b) => a.id - b.id);
  return { ids: Int32Array.from(rows, (r) => r.id), table: Float32Array.from(rows.flatMap((r) => r.row)) };
}

const INT64_MAX = 9223372036854775807n;

/**
 * The toy CLIP text encoder: `input_ids` int32 [batch, seq] → `last_hidden_state` [batch, seq, 10],
 * `pooler_output` [batch, 10] (the sum over tokens: what the toy UNet reads the concept from).
 *
 * Lookup: ids are compared with the K known ids (one-hot [batch, seq, K]) and multiplied with the K×10 table,
 * which keeps the model at a few kB instead of a 49408-row table; unknown ids give zero rows.
 * Background rule: a content word followed by a background noun, directly or through one modifier
 * ("a blue background", "a blue wooden table"), is cleared, so BLIP captions such as
 * "a red apple on a blue background" carry the object's colour only.
 */
export function buildToyTextEncoder(): GraphBuilder {
  const E = TEXT_EMBEDDING;
  const g = new GraphBuilder('toy_clip_text_encoder');
  const ids = g.input('input_ids', 'int32', ['batch_size', 'sequence_length']);
  const { ids: known, table } = toyEmbeddingTable();
  const knownIds = g.constant(known, [known.length], 'known_token_ids');
  const embeddings = g.constant(table, [known.length, E.size], 'token_embeddings');

  const column = g.op('Unsqueeze', [ids, g.int64s([-1], 'last_axis')]);
  const oneHot = g.op('Cast', [g.op('Equal', [column, knownIds])], { to: 1 });
  const tokens = g.op('MatMul', [oneHot, embeddings], {}, { outputName: 'token_features' });

  const channel = (index: number, name: string): string =>
    g.op(
      'Slice',
      [tokens, g.int64s([index]), g.int64s([index + 1]), g.int64s([2])],
      {},
      { outputName: name },
    );
  // next(x)[t] = x[t+1], zero past the end: Slice off the first token, Pad one zero at the end.
  const next = (x: string, name: string): string => {
    const rest = g.op('Slice', [x, g.int64s([1]), g.int64s([INT64_MAX]), g.int64s([1])]);
    return g.op(
      'Pad',
      [rest, g.int64s([0, 0, 0, 0, 1, 0], 'pad_end_of_sequence')],
      { mode: 'constant' },
      {
        outputName: name,
      },
    );
  };
  const background = channel(E.backgroundFlag, 'background_flag');
  const modifier = channel(E.modifierFlag, 'modifier_flag');
  const backgroundNext = next(background, 'background_next');
  const backgroundNext2 = next(backgroundNext, 'background_next2');
  const modifierNext = next(modifier, 'modifier_next');
  // At most one of background_next / modifier_next is 1, so the sum is a 0/1 flag.
  const describesBackground = g.op(
    'Add',
    [backgroundNext, g.op('Mul', [modifierNext, backgroundNext2])],
    {},
    {
      outputName: 'describes_background',
    },
  );
  const contentChannels = new Float32Array(E.size);
  contentChannels.fill(1, 0, E.nounFlag + 1);
  const cleared = g.op('Mul', [
    describesBackground,
    g.constant(contentChannels, [E.size], 'content_channels'),
  ]);
  const keep = g.op('Sub', [g.scalar(1, 'one'), cleared]);
  const hidden = g.op('Mul', [tokens, keep]);
  g.output(hidden, 'last_hidden_state', 'float32', ['batch_size', 'sequence_length', E.size]);
  const pooled = g.op('ReduceSum', [hidden, g.int64s([1], 'sequence_axis')], { keepdims: 0 });
  g.output(pooled, 'pooler_output', 'float32', ['batch_size', E.size]);
  return g;
}
