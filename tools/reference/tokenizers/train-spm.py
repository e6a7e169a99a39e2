"""Train a sentencepiece Unigram model (Debian's python3-sentencepiece) for the reference
tokenizer fixtures: nmt_nfkc normalization, so that the real Precompiled charsmap is exercised.

    /usr/bin/python3 train-spm.py INPUT.txt MODEL_PREFIX VOCAB_SIZE BYTE_FALLBACK(0|1) CHAR_COVERAGE
"""
import sys

import sentencepiece as spm

inp, prefix, vocab, byte_fallback, coverage = sys.argv[1:6]
spm.SentencePieceTrainer.train(
    input=inp,
    model_prefix=prefix,
    vocab_size=int(vocab),
    model_type='unigram',
    normalization_rule_name='nmt_nfkc',
    character_coverage=float(coverage),
    byte_fallback=byte_fallback == '1',
    input_sentence_size=0,
    shuffle_input_sentence=False,
    num_threads=2,
    minloglevel=2,
)
