import { GraphBuilder } from '../onnx-builder/index.js';
import { GraphOps } from '../t5/graph-ops.js';
import { SUMMARY_CHANNEL, TOY_BLIP_DIMS } from './blip-dims.js';
import {
  BLIP_CLS_ID,
  BLIP_DEC_ID,
  BLIP_SEP_ID,
  BLIP_SHAPE_WORDS,
  BLIP_VOCAB_SIZE,
  blipWordId,
} from './blip-tokenizer-json.js';
import { BLIP_COLOUR_NAMES, blipColourRgb } from './colour-names.js';

/** Logit of the token a grammar rule picks, of the other grammar tokens, and of every other vocabulary entry. */
const CHOSEN = 10;
const OTHER_GRAMMAR = 0;
const OUTSIDE_GRAMMAR = -10;
/** Colour logits fall by this much per unit of squared RGB distance from the observed colour. */
const COLOUR_SHARPNESS = 2;
/**
 * What each shape of the scene generator looks like to the vision model: the fraction of its bounding box it
 * fills and the box's height/width. A measurement that matches none (within ~2 tolerances) is an "object".
 */
const SHAPES = {
  circle: { fill: Math.PI / 4, aspect: 1 },
  ellipse: { fill: Math.PI / 4, aspect: 0.65 },
  square: { fill: 1, aspect: 1 },
  diamond: { fill: 0.5, aspect: 1 },
  triangle: { fill: 0.5, aspect: Math.sqrt(3) / 2 },
} as const;
const FILL_TOLERANCE = 0.06;
const ASPECT_TOLERANCE = 0.05;
const UNKNOWN_SHAPE_LOGIT = CHOSEN - 4;

/**
 * The tokens the caption grammar can produce, in the order of the small logit vector that the graph computes
 * before scattering it into the full vocabulary.
 */
function grammarTokens(): { ids: number[]; index: (word: string) => number } {
  const words = [
    '[SEP]',
    'a',
    'photograph',
    'of',
    'on',
    'background',
    ...BLIP_SHAPE_WORDS,
    ...BLIP_COLOUR_NAMES,
  ];
  const ids = words.map((w) => (w === '[SEP]' ? BLIP_SEP_ID : blipWordId(w)));
  return {
    ids,
    index: (word) => {
      const i = words.indexOf(word);
      if (i < 0) throw new Error(`toy BLIP grammar has no token '${word}'`);
      return i;
    },
  };
}

/**
 * text_decoder.onnx: input_ids, attention_mask [batch, seq], encoder_hidden_states [batch, 577, D] → logits
 * [batch, seq, 30524]. A small caption grammar driven by the last token, the one before it, and whether "on"
 * was already said:
 *   [DEC] → a → photograph → of → a → ⟨object colour⟩ → ⟨shape⟩ → on → a → ⟨background colour⟩ → background → [SEP]
 * Colour logits fall with the squared distance between the colour word and the colour the vision model saw, so
 * greedy decoding names the nearest colour. Any token outside the grammar is followed by [SEP].
 */
export function buildToyBlipTextDecoder(): GraphBuilder {
  const g = new GraphBuilder('toy_blip_text_decoder');
  const o = new GraphOps(g);
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', 'int64', ['batch_size', 'sequence_length']);
  const vision = g.input('encoder_hidden_states', 'float32', [
    'batch_size',
    TOY_BLIP_DIMS.visionTokens,
    TOY_BLIP_DIMS.hiddenSize,
  ]);
  const grammar = grammarTokens();
  const k = grammar.ids.length;

  // What the last token is, what the one before it is, and whether "on" has been said.
  const previous = o.concat([o.mul(o.slice(ids, 1, 0, 1), o.i64(0)), o.slice(ids, 1, 0, -1)], 1);
  const is = (x: string, word: string): string => o.toFloat(o.eq(x, o.i64(blipWordId(word))));
  const anyOf = (x: string, tokenIds: number[]): string =>
    o.toFloat(tokenIds.map((id) => o.eq(x, o.i64(id))).reduce((acc, next) => o.or(acc, next)));
  const isStart = anyOf(ids, [BLIP_DEC_ID, BLIP_CLS_ID]);
  const isA = is(ids, 'a');
  const isColour = anyOf(ids, BLIP_COLOUR_NAMES.map(blipWordId));
  const isShape = anyOf(ids, BLIP_SHAPE_WORDS.map(blipWordId));
  const isPhotograph = is(ids, 'photograph');
  const isOf = is(ids, 'of');
  const isOn = is(ids, 'on');
  const afterOf = is(previous, 'of');
  const seenOn = o.toFloat(o.greater(o.cumSum(o.mul(isOn, o.toFloat(mask)), 1), o.f(0)));
  const notSeenOn = o.sub(o.f(1), seenOn);

  // Rules with a fixed next token: condition [B, T] → one-hot row.
  const fixedRules: [string, string][] = [
    [isStart, 'a'],
    [o.mul(isA, o.mul(notSeenOn, o.sub(o.f(1), afterOf))), 'photograph'],
    [isPhotograph, 'of'],
    [isOf, 'a'],
    [o.mul(isColour, seenOn), 'background'],
    [isShape, 'on'],
    [isOn, 'a'],
  ];
  const objectColourRule = o.mul(isA, o.mul(notSeenOn, afterOf));
  const backgroundColourRule = o.mul(isA, seenOn);
  const shapeRule = o.mul(isColour, notSeenOn);
  const covered = [...fixedRules.map(([c]) => c), objectColourRule, backgroundColourRule, shapeRule].reduce(
    (a, b) => o.add(a, b),
  );
  fixedRules.push([o.sub(o.f(1), covered), '[SEP]']);

  const rows = new Float32Array(fixedRules.length * k).fill(OTHER_GRAMMAR);
  fixedRules.forEach(([, word], r) => {
    rows[r * k + grammar.index(word)] = CHOSEN;
  });
  const conditions = o.concat(
    fixedRules.map(([c]) => o.unsqueeze(c, [2])),
    2,
  ); // [B, T, R]
  let small = g.op('MatMul', [conditions, g.constant(rows, [fixedRules.length, k], 'grammar_rules')]); // [B, T, K]

  // Rules whose next-token distribution depends on the image.
  const summary = o.pick(vision, 1, 0); // [B, D]
  const colourRow = (offset: number): string => {
    const seen = o.unsqueeze(o.slice(summary, 1, offset, offset + 3), [1]); // [B, 1, 3]
    const palette = new Float32Array(k * 3);
    const inPalette = new Float32Array(k);
    BLIP_COLOUR_NAMES.forEach((name) => {
      const i = grammar.index(name);
      palette.set(blipColourRgb(name), i * 3);
      inPalette[i] = 1;
    });
    const diff = o.sub(g.constant(palette, [1, k, 3], `palette_${offset}`), seen); // [B, K, 3]
    const score = o.sub(
      o.f(CHOSEN),
      o.mul(o.f(COLOUR_SHARPNESS), o.reduceSum(o.mul(diff, diff), [2], false)),
    );
    return o.mul(score, g.constant(inPalette, [k], `palette_mask_${offset}`)); // [B, K]
  };
  const shapeRow = (): string => {
    const measured = (channel: number): string => o.slice(summary, 1, channel, channel + 1); // [B, 1]
    const fill = new Float32Array(k);
    const aspect = new Float32Array(k);
    const isShapeSlot = new Float32Array(k);
    for (const [shape, look] of Object.entries(SHAPES)) {
      fill[grammar.index(shape)] = look.fill;
      aspect[grammar.index(shape)] = look.aspect;
      isShapeSlot[grammar.index(shape)] = 1;
    }
    const penalty = (channel: number, expected: Float32Array, tolerance: number, name: string): string => {
      const off = o.div(o.sub(measured(channel), g.constant(expected, [k], name)), o.f(tolerance));
      return o.mul(off, off); // [B, K]
    };
    const mismatch = o.add(
      penalty(SUMMARY_CHANNEL.fill, fill, FILL_TOLERANCE, 'shape_fill'),
      penalty(SUMMARY_CHANNEL.aspect, aspect, ASPECT_TOLERANCE, 'shape_aspect'),
    );
    const score = o.mul(o.sub(o.f(CHOSEN), mismatch), g.constant(isShapeSlot, [k], 'shape_slots'));
    const unknown = new Float32Array(k);
    unknown[grammar.index('object')] = UNKNOWN_SHAPE_LOGIT;
    return o.add(score, g.constant(unknown, [k], 'unknown_shape'));
  };
  const addRule = (condition: string, row: string): void => {
    small = o.add(small, o.mul(o.unsqueeze(condition, [2]), o.unsqueeze(row, [1])));
  };
  addRule(objectColourRule, colourRow(SUMMARY_CHANNEL.object));
  addRule(backgroundColourRule, colourRow(SUMMARY_CHANNEL.background));
  addRule(shapeRule, shapeRow());

  // Scatter the K grammar logits into a constant fill over the whole vocabulary.
  const logitShape = o.concat([o.dim(ids, 0), o.dim(ids, 1), o.ints([BLIP_VOCAB_SIZE])], 0);
  const filled = g.op('Expand', [o.f(OUTSIDE_GRAMMAR), logitShape]);
  const tokenIds = g.op('Expand', [
    g.constant(BigInt64Array.from(grammar.ids, BigInt), [1, 1, k], 'grammar_ids'),
    g.op('Shape', [small]),
  ]);
  const logits = g.op('ScatterElements', [filled, tokenIds, small], { axis: 2 });
  g.output(logits, 'logits', 'float32', ['batch_size', 'sequence_length', BLIP_VOCAB_SIZE]);
  return g;
}
