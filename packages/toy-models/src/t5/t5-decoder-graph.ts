import { GraphBuilder } from '../onnx-builder/index.js';
import { ARTICLE_PLACEHOLDER, templateTables } from './caption-templates.js';
import { ENCODER_CHANNEL } from './t5-encoder-graph.js';
import { GraphOps } from './graph-ops.js';
import { TOY_T5_DIMS } from './t5-dims.js';
import {
  METASPACE,
  T5_EOS_ID,
  T5_PAD_ID,
  t5WordId,
  toyT5Pieces,
  toyT5VocabSize,
} from './t5-tokenizer-json.js';

const { numLayers, numHeads, dKv } = TOY_T5_DIMS;

/** Probability floor of every token, and the extra mass on </s> that ends a caption no template explains. */
const MASS_FLOOR = 1e-9;
const STRAY_EOS_MASS = 1e-4;

/** 1 for pieces starting a word with a vowel ("▁apple", "▁orange"): the concept then takes "an". */
function vowelTable(): Float32Array {
  const table = new Float32Array(toyT5VocabSize());
  toyT5Pieces().forEach((p, id) => {
    if (new RegExp(`^${METASPACE}[aeiouAEIOU]`).test(p.piece)) table[id] = 1;
  });
  return table;
}

/** [batch, enc_seq, d_model] hidden states → one layer's cross-attention key/value [batch, heads, enc_seq, d_kv]. */
function encoderKv(o: GraphOps, hidden: string): string {
  const split = o.g.op('Reshape', [hidden, o.ints([0, 0, numHeads, dKv])]);
  return o.g.op('Transpose', [split], { perm: [0, 2, 1, 3] });
}

/** Decoder token ids → self-attention key/value [batch, heads, dec_seq, d_kv]: each position holds its id. */
function decoderKv(o: GraphOps, ids: string): string {
  const perPosition = o.g.op('Pad', [
    o.unsqueeze(o.toFloat(ids), [1, 3]),
    o.ints([0, 0, 0, 0, 0, 0, 0, dKv - 1]),
  ]);
  return o.g.op('Tile', [perPosition, o.ints([1, numHeads, 1, 1])]);
}

/** Token ids stored in a self-attention cache (see decoderKv) → int64 [batch, past_seq]. */
function idsFromDecoderKv(o: GraphOps, key: string): string {
  return o.roundToInt64(o.pick(o.pick(key, 1, 0), 2, 0));
}

/**
 * The caption language model. `ids` [B, P] is the whole decoder prefix (start token first), `encoderKey` one
 * layer's cross-attention key [B, H, S, d_kv] (holding the encoder's channels), `newTokens` the number of
 * trailing positions whose logits are returned (int64 [1]).
 *
 * Each template, with the concept pasted in, is a token sequence; a template is alive at position p when it
 * agrees with the prefix up to p, and the next-token mass is the summed weight of the alive templates on the
 * token each predicts. Sampling therefore picks a template (and copies the concept whole); greedy picks the
 * heaviest branch at every fork.
 */
function captionLogits(
  o: GraphOps,
  ids: string,
  encoderKey: string,
  encoderMask: string,
  newTokens: string,
): string {
  const g = o.g;
  const t = templateTables();
  const vocab = toyT5VocabSize();

  // Concept tokens, compacted to the front: concept[b, k] = id of the k-th flagged encoder position.
  const channels = o.pick(encoderKey, 1, 0);
  const encIds = o.pick(channels, 2, ENCODER_CHANNEL.tokenId);
  const flag = o.mul(o.pick(channels, 2, ENCODER_CHANNEL.conceptFlag), o.toFloat(encoderMask));
  const slot = o.cumSum(flag, 1, true);
  const encLength = o.dim(flag, 1);
  const slots = o.rangeFloat(encLength);
  const select = o.mul(o.unsqueeze(flag, [2]), o.toFloat(o.eq(o.unsqueeze(slot, [2]), slots)));
  const concept = o.squeeze(g.op('MatMul', [o.unsqueeze(encIds, [1]), select]), [1]);
  const conceptLength = o.reduceSum(flag, [1], true); // [B, 1]

  const firstConcept = o.roundToInt64(o.pick(concept, 1, 0));
  const startsWithVowel = g.op('Gather', [g.constant(vowelTable(), [vocab], 'vowel_start'), firstConcept]);
  const article = o.where(o.greater(startsWithVowel, o.f(0)), o.f(t5WordId('an')), o.f(t5WordId('a'))); // [B]

  // Expanded templates E[b, m, j] for j = 0 … P-1: before ++ concept ++ after ++ </s> ++ <pad>…
  const prefixLength = o.dim(ids, 1);
  const j = o.rangeFloat(prefixLength); // [P]
  const beforeLen = o.floatsConst(t.beforeLength, [t.count, 1], 'template_before_length');
  const afterLen = o.floatsConst(t.afterLength, [t.count, 1], 'template_after_length');
  const rowStartBefore = o.floatsConst(
    t.beforeLength.map((_, m) => m * t.maxBefore),
    [t.count, 1],
    'template_before_row',
  );
  const rowStartAfter = o.floatsConst(
    t.afterLength.map((_, m) => m * t.maxAfter),
    [t.count, 1],
    'template_after_row',
  );
  const beforeTable = o.floatsConst(t.before, [t.count * t.maxBefore], 'template_before');
  const afterTable = o.floatsConst(t.after, [t.count * t.maxAfter], 'template_after');
  const clip = (x: string, hi: string | number): string =>
    g.op('Clip', [x, o.f(0), typeof hi === 'number' ? o.f(hi) : hi]);

  const beforeIndex = o.add(rowStartBefore, clip(j, t.maxBefore - 1)); // [M, P]
  const beforeToken = g.op('Gather', [beforeTable, o.toInt64(beforeIndex)]);
  const conceptEnd = o.add(beforeLen, o.unsqueeze(conceptLength, [1])); // [B, M, 1]
  const lastSlot = o.squeeze(o.sub(o.toFloat(encLength), o.f(1)), [0]);
  const conceptIndex = clip(o.sub(j, beforeLen), lastSlot); // [M, P]
  const conceptToken = g.op('Gather', [concept, o.toInt64(conceptIndex)], { axis: 1 }); // [B, M, P]
  const afterEnd = o.add(conceptEnd, afterLen); // [B, M, 1]
  const afterIndex = o.add(rowStartAfter, clip(o.sub(j, conceptEnd), t.maxAfter - 1)); // [B, M, P]
  const afterToken = g.op('Gather', [afterTable, o.toInt64(afterIndex)]);
  const tail = o.where(o.eq(j, afterEnd), o.f(T5_EOS_ID), o.f(T5_PAD_ID));
  let expanded = o.where(o.less(j, afterEnd), afterToken, tail);
  expanded = o.where(o.less(j, conceptEnd), conceptToken, expanded);
  expanded = o.where(o.less(j, beforeLen), beforeToken, expanded);
  const articleB = o.unsqueeze(article, [1, 2]);
  expanded = o.where(o.eq(expanded, o.f(ARTICLE_PLACEHOLDER)), articleB, expanded); // [B, M, P]

  // Alive[b, m, p]: E[b, m, i-1] == ids[b, i] for every 1 ≤ i ≤ p.
  const predicted = o.slice(expanded, 2, 0, -1);
  const generated = o.unsqueeze(o.slice(o.toFloat(ids), 1, 1, 2 ** 31 - 1), [1]);
  const mismatch = o.toFloat(o.not(o.eq(predicted, generated)));
  const mismatches = o.cumSum(g.op('Pad', [mismatch, o.ints([0, 0, 1, 0, 0, 0])]), 2);
  const alive = o.toFloat(o.eq(mismatches, o.f(0)));
  const weight = o.mul(alive, o.floatsConst(t.weight, [t.count, 1], 'template_weight'));

  const oneHot = g.op(
    'OneHot',
    [o.toInt64(expanded), o.ints([vocab]), o.floatsConst([0, 1], [2], 'one_hot_values')],
    {
      axis: -1,
    },
  ); // [B, M, P, V]
  const mass = o.reduceSum(o.mul(oneHot, o.unsqueeze(weight, [3])), [1], false); // [B, P, V]
  const strayEos = new Float32Array(vocab).fill(MASS_FLOOR);
  strayEos[T5_EOS_ID] += STRAY_EOS_MASS;
  const logits = g.op('Log', [o.add(mass, g.constant(strayEos, [vocab], 'mass_floor'))]);
  return o.slice(logits, 1, g.op('Neg', [newTokens]), 2 ** 31 - 1);
}

const DIMS = {
  batch: 'batch_size',
  enc: 'encoder_sequence_length',
  dec: 'decoder_sequence_length',
  past: 'past_decoder_sequence_length',
  total: 'past_decoder_sequence_length + 1',
} as const;

/** A key/value cache entry's shape: [batch, heads, length, d_kv]. */
const kvShape = (length: string): (string | number)[] => [DIMS.batch, numHeads, length, dKv];

/**
 * decoder_model.onnx (no cache) or decoder_model_merged.onnx (with `use_cache_branch` and past key/values), with
 * the I/O of optimum's T5 exports. In the merged model's cache branch the decoder input_ids are the new tokens
 * only: the earlier ones are read back from the self-attention cache, the concept from the cross-attention cache
 * (passed through unchanged as present.*.encoder.*).
 */
export function buildToyT5Decoder(merged: boolean): GraphBuilder {
  const g = new GraphBuilder(merged ? 'toy_t5_decoder_merged' : 'toy_t5_decoder');
  const o = new GraphOps(g);
  const encoderMask = g.input('encoder_attention_mask', 'int64', [DIMS.batch, DIMS.enc]);
  const inputIds = g.input('input_ids', 'int64', [DIMS.batch, DIMS.dec]);
  const hidden = g.input('encoder_hidden_states', 'float32', [DIMS.batch, DIMS.enc, TOY_T5_DIMS.dModel]);

  let ids: string;
  let encoderKvs: string[];
  if (!merged) {
    ids = inputIds;
    const kv = encoderKv(o, hidden);
    encoderKvs = Array.from({ length: numLayers * 2 }, () => kv);
  } else {
    const past: { decoderKey: string; decoderValue: string; encoderKey: string; encoderValue: string }[] = [];
    for (let i = 0; i < numLayers; i++) {
      past.push({
        decoderKey: g.input(`past_key_values.${i}.decoder.key`, 'float32', kvShape(DIMS.past)),
        decoderValue: g.input(`past_key_values.${i}.decoder.value`, 'float32', kvShape(DIMS.past)),
        encoderKey: g.input(`past_key_values.${i}.encoder.key`, 'float32', kvShape(DIMS.enc)),
        encoderValue: g.input(`past_key_values.${i}.encoder.value`, 'float32', kvShape(DIMS.enc)),
      });
    }
    const useCache = g.input('use_cache_branch', 'bool', [1]);
    const branchOutputs = 1 + numLayers * 2;
    const withCache = g.subgraph('decoder_with_past');
    {
      const w = new GraphOps(withCache);
      const earlier = idsFromDecoderKv(w, past[0].decoderKey);
      withCache.output(w.concat([earlier, inputIds], 1), 'cache_branch_ids', 'int64', [
        DIMS.batch,
        DIMS.total,
      ]);
      past.forEach((p, i) => {
        for (const [kind, value] of [
          ['key', p.encoderKey],
          ['value', p.encoderValue],
        ] as const) {
          const kept = withCache.op('Identity', [value]);
          withCache.output(kept, `cache_branch_encoder_${i}_${kind}`, 'float32', kvShape(DIMS.enc));
        }
      });
    }
    const withoutCache = g.subgraph('decoder_without_past');
    {
      const w = new GraphOps(withoutCache);
      withoutCache.output(withoutCache.op('Identity', [inputIds]), 'first_step_ids', 'int64', [
        DIMS.batch,
        DIMS.dec,
      ]);
      const kv = encoderKv(w, hidden);
      for (let i = 0; i < numLayers; i++) {
        for (const kind of ['key', 'value']) {
          const out = withoutCache.op('Identity', [kv]);
          withoutCache.output(out, `first_step_encoder_${i}_${kind}`, 'float32', kvShape(DIMS.enc));
        }
      }
    }
    const outs = g.opMulti(
      'If',
      [useCache],
      { then_branch: withCache, else_branch: withoutCache },
      branchOutputs,
    );
    ids = outs[0];
    encoderKvs = outs.slice(1);
  }

  const newTokens = o.dim(inputIds, 1);
  const logits = captionLogits(o, ids, encoderKvs[0], encoderMask, newTokens);
  const selfKv = decoderKv(o, ids);
  const vocab = toyT5VocabSize();
  // Each output gets its own Identity: several outputs share one computed tensor.
  const emit = (value: string, name: string, shape: (string | number)[]): void => {
    g.output(g.op('Identity', [value]), name, 'float32', shape);
  };
  emit(logits, 'logits', [DIMS.batch, DIMS.dec, vocab]);
  const selfLength = merged ? DIMS.total : DIMS.dec;
  for (let i = 0; i < numLayers; i++) {
    emit(selfKv, `present.${i}.decoder.key`, kvShape(selfLength));
    emit(selfKv, `present.${i}.decoder.value`, kvShape(selfLength));
    emit(encoderKvs[2 * i], `present.${i}.encoder.key`, kvShape(DIMS.enc));
    emit(encoderKvs[2 * i + 1], `present.${i}.encoder.value`, kvShape(DIMS.enc));
  }
  return g;
}
