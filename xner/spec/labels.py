"""PAN-X's tag set and the label the loss skips. Plain constants: no torch, no datasets, so that
collecting the benchmarks or building a table never loads them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
ENTITY_TYPES = ("PER", "ORG", "LOC")
IGNORE = -100  # the label the loss and the metric skip: subwords after the first, specials


def label_maps(tags: Sequence[str] = TAGS) -> dict[str, dict]:
    """`id2label` and `label2id` for `tags` (PAN-X's by default), as model configurations
    take them."""
    return {
        "id2label": dict(enumerate(tags)),
        "label2id": {tag: i for i, tag in enumerate(tags)},
    }


def order_types(types: Iterable[str]) -> tuple[str, ...]:
    """PAN-X's PER, ORG, LOC first in PAN-X's order, then the others sorted: PAN-X studies
    keep PAN-X's exact tag order, other corpora get a stable one."""
    found = set(types)
    return (*[t for t in ENTITY_TYPES if t in found], *sorted(found - set(ENTITY_TYPES)))
