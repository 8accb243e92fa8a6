"""XLM-R base's exact architecture with random weights, and a tokenizer with XLM-R's lengths.

For measuring what a training step costs at real size where the hub is out of reach: the
parameter count (the 250,002-row embedding above all) and the sequence lengths are XLM-R
base's, the weights and the vocabulary are not, so the F1 of this model means nothing.

The tokenizer is a length model of XLM-R's SentencePiece: each "▁word" is cut into chunks of at
most four characters. On PAN-X's train split that gives mean input_ids per sentence (with
<s> and </s>) of de 20.1, fr 14.0, it 15.8, en 15.7, against XLM-R's 17.8, 13.3, 14.4, 14.1.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from tokenizers import Regex

from xner.data.synthetic import LANGS, synthetic_sentences
from xner.training.tiny import (
    MAX_LENGTH,
    SPACE,
    SPECIAL_TOKENS,
    as_xlmr_tokenizer,
    sentencepiece_normalizer,
)

if TYPE_CHECKING:
    from transformers import XLMRobertaConfig, XLMRobertaTokenizerFast

XLMR_VOCAB_SIZE = 250_002  # XLM-R base's embedding rows, whatever the tokenizer holds
CHUNK = 4  # characters per piece; 3 overshoots XLM-R's lengths by ~40%, 5 undershoots
VOCAB_SENTENCES = 3000  # synthetic sentences per language whose chunks get their own id
# Latin-1 (printable), Latin Extended-A and -B, Greek, Cyrillic: single characters keep an id
# of their own so that real text is not all <unk>.
CHAR_RANGES = ((0x21, 0x7E), (0xA1, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF))


@functools.lru_cache(maxsize=1)
def xlmr_base_random_tokenizer() -> XLMRobertaTokenizerFast:
    """The length-model tokenizer; a pure function of the code, so the same in every process."""
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers.models import WordLevel

    unk = SPECIAL_TOKENS.index("<unk>")
    backend = Tokenizer(WordLevel({"<unk>": unk}, unk_token="<unk>"))
    # Same normalisation as xner/training/tiny.py (and SentencePiece): the lengths depend on it.
    backend.normalizer = sentencepiece_normalizer()
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=SPACE, prepend_scheme="always"),
            # "isolated" keeps every chunk as its own piece; [\s\S], unlike ".", matches newlines.
            pre_tokenizers.Split(Regex(rf"[\s\S]{{1,{CHUNK}}}"), behavior="isolated"),
        ]
    )
    # The vocabulary is made of what this very pipeline produces, so every chunk of the
    # synthetic corpus is in it exactly as the tokenizer will look it up.
    pieces = {
        piece
        for lang in LANGS
        for tokens, _ in synthetic_sentences(lang, VOCAB_SENTENCES, "tokenizer", seed=0)
        for piece in _pieces(backend, " ".join(tokens))
    }
    chars = [chr(c) for low, high in CHAR_RANGES for c in range(low, high + 1)]
    pieces.update(chars)
    pieces.update(SPACE + c for c in chars)
    pieces.difference_update(SPECIAL_TOKENS)
    # Sorted: set order depends on PYTHONHASHSEED, ids must not.
    vocab = {token: i for i, token in enumerate([*SPECIAL_TOKENS, *sorted(pieces)])}
    backend.model = WordLevel(vocab, unk_token="<unk>")
    return as_xlmr_tokenizer(backend)


def _pieces(backend, text: str) -> list[str]:
    normalized = backend.normalizer.normalize_str(text)
    return [piece for piece, _ in backend.pre_tokenizer.pre_tokenize_str(normalized)]


def xlmr_base_random_config(**labels) -> XLMRobertaConfig:
    """XLM-R base's configuration (xlm-roberta-base's config.json), for random initialisation."""
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(
        vocab_size=XLMR_VOCAB_SIZE,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=MAX_LENGTH + 2,  # XLM-R offsets positions by the pad id + 1
        type_vocab_size=1,
        initializer_range=0.02,
        layer_norm_eps=1e-5,
        pad_token_id=SPECIAL_TOKENS.index("<pad>"),
        bos_token_id=SPECIAL_TOKENS.index("<s>"),
        eos_token_id=SPECIAL_TOKENS.index("</s>"),
        **labels,
    )
