# Writes nmt-nfkc-charsmap.bin.gz: the precompiled_charsmap of SentencePiece's nmt_nfkc rule (the normaliser of T5 /
# Flan-T5's spiece.model and of the `Precompiled` normalizer in their tokenizer.json), taken from a throw-away
# model trained on a few sentences. Needs Debian's python3-sentencepiece (run with /usr/bin/python3).
# Then `node t5_normaliser_reference.mjs` (needs the `tokenizers` npm package, the Rust core of transformers'
# fast tokenizers, installed anywhere on NODE_PATH) writes t5-normaliser-reference.json.
import os, tempfile
import sentencepiece as spm
work = tempfile.mkdtemp()
corpus = ["a photo of a cat", "the quick brown fox jumps over the lazy dog", "Cafe naive deja vu", "hello world"] * 50
with open(os.path.join(work, 'corpus.txt'), 'w') as f: f.write('\n'.join(corpus))
spm.SentencePieceTrainer.train(input=os.path.join(work, 'corpus.txt'), model_prefix=os.path.join(work, 'tiny'), vocab_size=60, model_type='unigram', normalization_rule_name='nmt_nfkc', hard_vocab_limit=False, character_coverage=1.0, minloglevel=2)
def fields(buf):
    i = 0
    while i < len(buf):
        key = 0; shift = 0
        while True:
            b = buf[i]; i += 1; key |= (b & 0x7f) << shift; shift += 7
            if b < 0x80: break
        fn, wt = key >> 3, key & 7
        if wt == 0:
            while buf[i] >= 0x80: i += 1
            i += 1; yield fn, None
        elif wt == 2:
            n = 0; shift = 0
            while True:
                b = buf[i]; i += 1; n |= (b & 0x7f) << shift; shift += 7
                if b < 0x80: break
            yield fn, buf[i:i+n]; i += n
        elif wt == 5: i += 4; yield fn, None
        elif wt == 1: i += 8; yield fn, None
model = open(os.path.join(work, 'tiny.model'), 'rb').read()
spec = [v for f, v in fields(model) if f == 3][0]
cm = [v for f, v in fields(spec) if f == 2][0]
name = [v for f, v in fields(spec) if f == 1][0]
assert name == b'nmt_nfkc'
import gzip
with gzip.GzipFile(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'nmt-nfkc-charsmap.bin.gz'), 'wb', 9, mtime=0) as f: f.write(cm)
print(len(cm), 'bytes')
