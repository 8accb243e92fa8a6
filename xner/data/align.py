"""Word-to-subword label alignment and the encoding of PAN-X splits for token classification."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import datasets

from xner.spec.labels import IGNORE

logger = logging.getLogger(__name__)


def align_labels(word_ids: Sequence[int | None], tags: Sequence[int]) -> list[int]:
    """Give each word's tag to its first subword and IGNORE to other subwords and specials.

    `word_ids` is what a fast tokenizer's `word_ids()` returns for words passed with
    `is_split_into_words=True`. A word with no subword at all (zero-width and control
    characters can vanish in the tokenizer) simply does not appear there, so later words keep
    their own tags; words cut off by truncation likewise get no label.
    """
    labels = []
    previous = None
    for word in word_ids:
        labels.append(IGNORE if word is None or word == previous else tags[word])
        previous = word
    return labels


@dataclass(frozen=True)
class LabelLoss:
    """Words of one split that ended up without a labelled position, and why."""

    words: int
    truncated: int  # words whose first subword fell beyond max_length
    no_subword: int  # words the tokenizer turned into nothing

    @property
    def total(self) -> int:
        return self.truncated + self.no_subword


def encode(
    dataset_dict: datasets.DatasetDict, tokenizer, max_length: int | None = None
) -> datasets.DatasetDict:
    """Tokenize every split and align labels, leaving input_ids, attention_mask and labels.

    `max_length` defaults to the tokenizer's `model_max_length`. Words that lose their label
    are logged per split as a warning; `encode_counting_loss` also returns the counts.
    """
    return encode_counting_loss(dataset_dict, tokenizer, max_length)[0]


def encode_counting_loss(
    dataset_dict: datasets.DatasetDict, tokenizer, max_length: int | None = None
) -> tuple[datasets.DatasetDict, dict[str, LabelLoss]]:
    """`encode`, also returning per split the words left without a label, and why."""
    max_length = max_length or _model_max_length(tokenizer)

    def encode_batch(batch):
        enc = tokenizer(
            batch["tokens"], is_split_into_words=True, truncation=True, max_length=max_length
        )
        labels, truncated, no_subword = [], [], []
        for i, tags in enumerate(batch["ner_tags"]):
            word_ids = enc.word_ids(batch_index=i)
            labels.append(align_labels(word_ids, tags))
            kept = {w for w in word_ids if w is not None}
            cut = {
                w for piece in enc.encodings[i].overflowing for w in piece.word_ids if w is not None
            } - kept
            truncated.append(len(cut))
            no_subword.append(len(tags) - len(kept) - len(cut))
        enc["labels"] = labels
        enc["_truncated"] = truncated
        enc["_no_subword"] = no_subword
        return enc

    encoded = dataset_dict.map(
        encode_batch, batched=True, remove_columns=["tokens", "langs", "ner_tags"]
    )
    losses = {}
    for split, ds in encoded.items():
        loss = LabelLoss(
            words=sum(len(t) for t in dataset_dict[split]["ner_tags"]),
            truncated=sum(ds["_truncated"]),
            no_subword=sum(ds["_no_subword"]),
        )
        losses[split] = loss
        if loss.total:
            logger.warning(
                "split %r: %d of %d words have no label (%d truncated at max_length=%d, "
                "%d turned into no subword)",
                split, loss.total, loss.words, loss.truncated, max_length, loss.no_subword,
            )  # fmt: skip
    return encoded.remove_columns(["_truncated", "_no_subword"]), losses


def _model_max_length(tokenizer) -> int:
    limit = getattr(tokenizer, "model_max_length", None)
    # Tokenizers saved without a limit report a huge sentinel (int(1e30)).
    if not limit or limit > 100_000:
        raise ValueError(
            "the tokenizer has no model_max_length; pass max_length to encode() explicitly"
        )
    return limit
