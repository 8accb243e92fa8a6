"""The offline tokenizer and the tiny XLM-R configuration of the smoke study.

The tokenizer is XLM-R's kind (SentencePiece Unigram, Metaspace pre-tokenizer, `<s> ... </s>`
template) trained with `tokenizers` on synthetic PAN-X text, and wrapped in transformers'
XLM-R tokenizer class, so the code path is the one the real model takes.
"""

from __future__ import annotations

import collections
import functools
import math
import unicodedata

from tokenizers import Regex

from xner.data.synthetic import LANGS, synthetic_sentences
from xner.spec.recipe import TINY, TINY_WIDTHS

SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")  # XLM-R's ids 0..3, mask last
TOKENIZER_SENTENCES = 3000  # per language
MAX_LENGTH = 512
UNK = SPECIAL_TOKENS.index("<unk>")
SPACE = "\u2581"  # SentencePiece's word-start mark
MAX_PIECE = 8


@functools.lru_cache(maxsize=4)
def tiny_tokenizer(vocab_size: int = 3000, seed: int = 0):
    """An XLM-R-style tokenizer built from synthetic text; the same arguments give the same one.

    The Unigram vocabulary is estimated by counting, not by `tokenizers`' trainer: that trainer
    breaks ties in hash-map order, which changes from process to process, and a tokenizer that
    differs between runs would make the smoke study's figures irreproducible.
    """
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers.models import Unigram

    words = collections.Counter(
        token
        for lang in LANGS
        for tokens, _ in synthetic_sentences(lang, TOKENIZER_SENTENCES, "tokenizer", seed)
        for token in tokens
    )
    backend = Tokenizer(Unigram(_unigram_vocab(words, vocab_size), unk_id=UNK, byte_fallback=False))
    backend.normalizer = sentencepiece_normalizer()
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPACE, prepend_scheme="always")
    return as_xlmr_tokenizer(backend)


def sentencepiece_normalizer():
    """What SentencePiece (and so XLM-R) does before the model: normalise, collapse spaces."""
    from tokenizers import normalizers

    return normalizers.Sequence(
        [normalizers.Nmt(), normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    )


def as_xlmr_tokenizer(backend):
    """A `tokenizers` backend whose vocabulary starts with SPECIAL_TOKENS, given XLM-R's
    decoder and `<s> ... </s>` template and wrapped in transformers' XLM-R tokenizer class, so
    the code path is the one the real model takes."""
    from tokenizers import decoders
    from tokenizers.processors import TemplateProcessing
    from transformers import XLMRobertaTokenizerFast

    backend.decoder = decoders.Metaspace(replacement=SPACE, prepend_scheme="always")
    bos, eos = SPECIAL_TOKENS.index("<s>"), SPECIAL_TOKENS.index("</s>")
    backend.post_processor = TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    return XLMRobertaTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        # Without it transformers 4.x neither knows a limit nor truncates.
        model_max_length=MAX_LENGTH,
    )


def _unigram_vocab(words: collections.Counter, size: int) -> list[tuple[str, float]]:
    """Every character plus the most frequent substrings of "▁word", scored by log frequency."""
    counts: collections.Counter = collections.Counter()
    for word, n in words.items():
        text = unicodedata.normalize("NFKC", SPACE + word)
        for i in range(len(text)):
            for j in range(i + 1, min(len(text), i + MAX_PIECE) + 1):
                counts[text[i:j]] += n
    chars = sorted(piece for piece in counts if len(piece) == 1)
    room = size - len(SPECIAL_TOKENS) - len(chars)
    longer = sorted((p for p in counts if len(p) > 1), key=lambda p: (-counts[p], p))[:room]
    total = sum(counts[p] for p in chars + longer)
    pieces = [(p, math.log(counts[p] / total)) for p in sorted(chars + longer)]
    # Special tokens first, in XLM-R's order; <mask> is last in XLM-R but its id is irrelevant.
    return [(token, 0.0) for token in SPECIAL_TOKENS] + pieces


def tiny_config(vocab_size: int, hidden: int = TINY_WIDTHS[TINY], **labels):
    """An XLM-R configuration small enough to fine-tune in seconds on a CPU.

    The default width, 32, is small enough that a smoke training is mostly Python overhead
    rather than matrix products, which run slowly under the smoke study's pinned, portable CPU
    numerics (MKL's COMPATIBLE branch): a step takes about a quarter of its time at width 128.
    """
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=2 * hidden,
        max_position_embeddings=MAX_LENGTH + 2,  # XLM-R offsets positions by the pad id + 1
        pad_token_id=SPECIAL_TOKENS.index("<pad>"),
        bos_token_id=SPECIAL_TOKENS.index("<s>"),
        eos_token_id=SPECIAL_TOKENS.index("</s>"),
        type_vocab_size=1,
        **labels,
    )
