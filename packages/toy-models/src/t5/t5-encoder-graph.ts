import { GraphBuilder } from '../onnx-builder/index.js';
import { TOY_T5_DIMS } from './t5-dims.js';
import { GraphOps } from './graph-ops.js';
import {
  T5_EOS_ID,
  t5PieceId,
  t5WordId,
  toyT5Pieces,
  toyT5VocabSize,
  METASPACE,
} from './t5-tokenizer-json.js';
import { toyContentWords } from './concept-words.js';

/** Channels of the toy encoder's hidden state (the rest of d_model is zero). */
export const ENCODER_CHANNEL = { tokenId: 0, conceptFlag: 1, attention: 2 } as const;

/** 1 for pieces that are colour or object words ("▁red", "▁apple"), else 0; one entry per logit id. */
function contentTable(): Float32Array {
  const table = new Float32Array(toyT5VocabSize());
  const content = new Set(toyContentWords().map((w) => METASPACE + w));
  toyT5Pieces().forEach((p, id) => {
    if (content.has(p.piece)) table[id] = 1;
  });
  return table;
}

/**
 * encoder_model.onnx: input_ids, attention_mask [batch, enc_seq] → last_hidden_state [batch, enc_seq, d_model].
 * Each position carries its token id and a flag saying whether it belongs to the concept: the words after
 * "containing" (skipping an article right after it) up to "." or "</s>"; an instruction without "containing"
 * falls back to its colour and object words.
 */
export function buildToyT5Encoder(): GraphBuilder {
  const g = new GraphBuilder('toy_t5_encoder');
  const o = new GraphOps(g);
  const ids = g.input('input_ids', 'int64', ['batch_size', 'encoder_sequence_length']);
  const mask = g.input('attention_mask', 'int64', ['batch_size', 'encoder_sequence_length']);
  const maskF = o.toFloat(mask);

  const isPiece = (x: string, id: number): string => o.eq(x, o.i64(id));
  const firstColumn = o.slice(ids, 1, 0, 1);
  const previous = o.concat([o.mul(firstColumn, o.i64(0)), o.slice(ids, 1, 0, -1)], 1);

  const containing = t5WordId('containing');
  const isContaining = o.toFloat(isPiece(ids, containing));
  const afterContaining = o.greater(o.cumSum(isContaining, 1, true), o.f(0));
  const isArticle = o.or(isPiece(ids, t5WordId('a')), isPiece(ids, t5WordId('an')));
  const articleOfTrigger = o.and(isArticle, isPiece(previous, containing));
  const isStop = o.or(o.or(isPiece(ids, t5PieceId('.')), isPiece(ids, T5_EOS_ID)), o.eq(mask, o.i64(0)));
  const stopSeen = o.greater(o.cumSum(o.toFloat(o.and(isStop, afterContaining)), 1), o.f(0));
  const span = o.and(o.and(afterContaining, o.not(articleOfTrigger)), o.not(stopSeen));

  const hasTrigger = o.greater(o.reduceSum(isContaining, [1], true), o.f(0));
  const contentWords = g.op(
    'Gather',
    [g.constant(contentTable(), [toyT5VocabSize()], 'content_words'), ids],
    {
      axis: 0,
    },
  );
  const flag = o.mul(o.where(hasTrigger, o.toFloat(span), contentWords), maskF);

  const channels = [o.toFloat(ids), flag, maskF].map((c) => o.unsqueeze(c, [2]));
  const used = channels.length;
  const hidden = g.op('Pad', [o.concat(channels, 2), o.ints([0, 0, 0, 0, 0, TOY_T5_DIMS.dModel - used])]);
  g.output(hidden, 'last_hidden_state', 'float32', [
    'batch_size',
    'encoder_sequence_length',
    TOY_T5_DIMS.dModel,
  ]);
  return g;
}
