"""PAN-X's tag set and the label the loss skips. Plain constants: no torch, no datasets, so that
collecting the benchmarks or building a table never loads them."""

from __future__ import annotations

TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
ENTITY_TYPES = ("PER", "ORG", "LOC")
IGNORE = -100  # the label the loss and the metric skip: subwords after the first, specials


def label_maps() -> dict[str, dict]:
    """`id2label` and `label2id` for the PAN-X tags, as model configurations take them."""
    return {
        "id2label": dict(enumerate(TAGS)),
        "label2id": {tag: i for i, tag in enumerate(TAGS)},
    }
