"""The offline tokenizer and the tiny XLM-R configuration of the CPU profile.

The tokenizer is XLM-R's kind (SentencePiece Unigram, Metaspace pre-tokenizer, `<s> ... </s>`
template) trained with `tokenizers` on synthetic PAN-X text, and wrapped in transformers'
XLM-R tokenizer class, so the code path is the one the real model takes.
"""

from __future__ import annotations

import functools

from xner.synthetic import LANGS, synthetic_sentences

SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")  # XLM-R's ids 0..3, mask last
TOKENIZER_SENTENCES = 3000  # per language
MAX_LENGTH = 512


@functools.lru_cache(maxsize=4)
def tiny_tokenizer(vocab_size: int = 3000, seed: int = 0):
    """An XLM-R-style tokenizer trained on synthetic text; the same arguments give the same one."""
    from tokenizers import SentencePieceUnigramTokenizer
    from tokenizers.processors import TemplateProcessing
    from transformers import XLMRobertaTokenizerFast

    text = [
        " ".join(tokens)
        for lang in LANGS
        for tokens, _ in synthetic_sentences(lang, TOKENIZER_SENTENCES, "tokenizer", seed)
    ]
    sp = SentencePieceUnigramTokenizer()
    sp.train_from_iterator(
        text,
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        unk_token="<unk>",
        show_progress=False,
    )
    backend = sp._tokenizer
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


def tiny_config(vocab_size: int, **labels):
    """An XLM-R configuration small enough to fine-tune in seconds on a CPU."""
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(
        vocab_size=vocab_size,
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=256,
        max_position_embeddings=MAX_LENGTH + 2,  # XLM-R offsets positions by the pad id + 1
        pad_token_id=SPECIAL_TOKENS.index("<pad>"),
        bos_token_id=SPECIAL_TOKENS.index("<s>"),
        eos_token_id=SPECIAL_TOKENS.index("</s>"),
        type_vocab_size=1,
        **labels,
    )
