"""Entity-level scores with seqeval, and the bridge from model logits to tag sequences.

This is the only module that calls seqeval: its `mode="strict"` silently falls back to lenient
scoring without `scheme=IOB2`, and it mis-handles numpy rows, so both are dealt with here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from xner.spec.labels import IGNORE
from xner.spec.recipe import METRIC_MODES as MODES


@dataclass(frozen=True)
class EntityScores:
    """Micro-averaged entity precision, recall and F1, and F1 per entity type."""

    precision: float
    recall: float
    f1: float
    per_type: dict[str, float] = field(default_factory=dict)
    support: int = 0  # true entities
    # Per test sentence and entity type: true positives, false positives, false negatives
    # (xner.results.intervals.sentence_counts), in the test split's order; what intervals and paired
    # comparisons resample.
    sentence_counts: object = field(default=None, compare=False, repr=False)
    # (true tags, predicted tags) per test sentence, in the split's order: what was scored.
    tags: tuple[list[list[str]], list[list[str]]] | None = field(
        default=None, compare=False, repr=False
    )


def entity_f1(
    true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]], mode: str = "default"
) -> EntityScores:
    """Score predicted against true IOB2 tag sequences at the entity level.

    `mode="default"` is seqeval's conlleval-compatible scoring (what the report used: an
    I- tag without a B- still opens an entity); `mode="strict"` is IOB2 strict, where such
    ill-formed spans count as no entity.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    y_true = [[str(t) for t in row] for row in true_tags]
    y_pred = [[str(t) for t in row] for row in pred_tags]
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true sequences but {len(y_pred)} predicted")
    for i, (t, p) in enumerate(zip(y_true, y_pred, strict=True)):
        if len(t) != len(p):
            raise ValueError(f"sequence {i}: {len(t)} true tags but {len(p)} predicted")
    extra = {"mode": "strict", "scheme": IOB2} if mode == "strict" else {}
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **extra)
    micro = report["micro avg"]
    per_type = {
        name: float(scores["f1-score"])
        for name, scores in report.items()
        if not name.endswith(" avg")
    }
    return EntityScores(
        precision=float(micro["precision"]),
        recall=float(micro["recall"]),
        f1=float(micro["f1-score"]),
        per_type=dict(sorted(per_type.items())),
        support=int(micro["support"]),
    )


def logits_to_tags(
    logits: np.ndarray, label_ids: np.ndarray, id2label: dict[int, str]
) -> tuple[list[list[str]], list[list[str]]]:
    """Argmax the logits and drop positions labelled IGNORE: (true tags, predicted tags)."""
    logits = np.asarray(logits)
    label_ids = np.asarray(label_ids)
    if logits.shape[:2] != label_ids.shape:
        raise ValueError(f"logits {logits.shape} do not match labels {label_ids.shape}")
    predictions = logits.argmax(axis=-1)
    true_tags, pred_tags = [], []
    for pred_row, label_row in zip(predictions, label_ids, strict=True):
        keep = label_row != IGNORE
        # .tolist() turns numpy integers into Python ints before the lookup and seqeval.
        true_tags.append([id2label[i] for i in label_row[keep].tolist()])
        pred_tags.append([id2label[i] for i in pred_row[keep].tolist()])
    return true_tags, pred_tags
