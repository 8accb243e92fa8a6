"""What the study names as drivers of transfer, measured on a test split: the tokenizer's
subword segmentation (fertility), the words lost to truncation and the entity types' shares.

The tokenizer is called exactly as xner.data.align.encode calls it (words, is_split_into_words,
truncation at max_length) and labels go to first subwords by align.align_labels, so the words
listed here as labelled are the words the model was scored on, in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from xner.data.align import _model_max_length, align_labels
from xner.spec.labels import IGNORE


@dataclass(frozen=True)
class Segmentation:
    """A split as the model saw it: per sentence the indices of its labelled words, and the
    split's factors (`as_dict`)."""

    labelled: list[list[int]]
    words: int
    subwords: int  # of every word, untruncated, special tokens aside
    split_words: int  # words of more than one subword
    truncated: int  # words that had subwords but lost their label to truncation
    max_length: int

    @property
    def fertility(self) -> float:
        """Subwords per word (words the tokenizer turns into nothing count as words)."""
        return self.subwords / self.words if self.words else 0.0

    def as_dict(self) -> dict:
        share = (lambda n: round(n / self.words, 6)) if self.words else (lambda n: 0.0)
        return {
            "words": self.words,
            "fertility": round(self.fertility, 6),
            "split_share": share(self.split_words),
            "truncated_share": share(self.truncated),
            "truncated_words": self.truncated,
            "max_length": self.max_length,
        }


def segment(
    tokenizer, tokens: Sequence[Sequence[str]], max_length: int | None = None
) -> Segmentation:
    """The segmentation of `tokens` (one list of words per sentence) by `tokenizer`."""
    max_length = max_length or _model_max_length(tokenizer)
    rows = [list(t) for t in tokens]
    words = sum(len(r) for r in rows)
    if not rows:
        return Segmentation([], 0, 0, 0, 0, max_length)
    full = tokenizer(rows, is_split_into_words=True, add_special_tokens=False)
    cut = tokenizer(rows, is_split_into_words=True, truncation=True, max_length=max_length)
    labelled, subwords, split, truncated = [], 0, 0, 0
    for i, row in enumerate(rows):
        pieces = Counter(w for w in full.word_ids(batch_index=i) if w is not None)
        subwords += sum(pieces.values())
        split += sum(1 for n in pieces.values() if n > 1)
        kept = [
            w for w in align_labels(cut.word_ids(batch_index=i), range(len(row))) if w != IGNORE
        ]
        labelled.append(kept)
        truncated += len(set(pieces) - set(kept))
    return Segmentation(labelled, words, subwords, split, truncated, max_length)


def type_distribution(entities: Sequence[set[tuple[str, int, int]]], types: Sequence[str]) -> dict:
    """`{"counts": {type: n}, "shares": {type: share}}` of a split's gold entities."""
    counts = Counter(name for sentence in entities for name, _, _ in sentence)
    total = sum(counts.values())
    return {
        "counts": {t: counts.get(t, 0) for t in types},
        "shares": {t: round(counts.get(t, 0) / total, 6) if total else 0.0 for t in types},
    }
