"""NER errors beyond F1: the SemEval-2013 task 9.1 categories and the confusion of entity types.

The categories (correct, incorrect, partial, missed, spurious) in the four views of the task
(strict: span and type; exact: span only; partial: span overlap; ent_type: type with overlap)
come from nervaluate, fed the entities seqeval scored (xner.results.intervals.sentence_entities,
so an ill-formed I- tag makes the same entity in both). nervaluate 1.2 scores each type on its
own entities: per type, a PER predicted as ORG is a missed PER and a spurious ORG; the
confusion matrix is where such a swap shows as itself.

The confusion matrix pairs each gold entity with the predicted entity overlapping it most
(ties: the earlier one): `{gold type: {predicted type: n}}`, a gold entity no prediction
overlaps under "missed", and a predicted entity paired with no gold one (overlapping none, or
a second fragment of one) in the row "spurious". Every gold entity is in its type's row once;
the diagonal counts same-type pairs whatever their boundaries.
"""

from __future__ import annotations

from collections.abc import Sequence

from nervaluate import Evaluator

from xner.results.intervals import sentence_entities

VIEWS = ("strict", "exact", "partial", "ent_type")
CATEGORIES = ("correct", "incorrect", "partial", "missed", "spurious")
MISSED, SPURIOUS = "missed", "spurious"


def error_analysis(
    true_tags: Sequence[Sequence[str]],
    pred_tags: Sequence[Sequence[str]],
    entity_types: Sequence[str],
    mode: str = "default",
) -> dict:
    """`{"categories": {view: {category: n}}, "per_type": {type: {view: {category: n}}},
    "confusion": {gold: {predicted: n}}}` of a test split's tag sequences."""
    true = sentence_entities(true_tags, mode)
    pred = sentence_entities(pred_tags, mode)
    docs_true = [_dicts(doc) for doc in true]
    docs_pred = [_dicts(doc) for doc in pred]
    types = list(entity_types)
    overall: dict[str, dict[str, int]] = {v: dict.fromkeys(CATEGORIES, 0) for v in VIEWS}
    per_type: dict[str, dict[str, dict[str, int]]] = {}
    if any(docs_true) or any(docs_pred):
        scored = Evaluator(docs_true, docs_pred, tags=types, loader="dict").evaluate()
        overall = {v: _counts(scored["overall"][v]) for v in VIEWS}
        per_type = {
            name: {v: _counts(scored["entities"][name][v]) for v in VIEWS}
            for name in types
            if name in scored["entities"]
        }
    return {"categories": overall, "per_type": per_type, "confusion": confusion(true, pred)}


def confusion(
    true: Sequence[set[tuple[str, int, int]]], pred: Sequence[set[tuple[str, int, int]]]
) -> dict[str, dict[str, int]]:
    """Gold type x predicted type (see the module's docstring), from per-sentence entities."""
    table: dict[str, dict[str, int]] = {}

    def add(gold: str, predicted: str) -> None:
        row = table.setdefault(gold, {})
        row[predicted] = row.get(predicted, 0) + 1

    for gold_entities, pred_entities in zip(true, pred, strict=True):
        predicted = sorted(pred_entities, key=_position)
        paired: set[int] = set()
        for name, start, end in sorted(gold_entities, key=_position):
            overlaps = [
                (min(end, e) - max(start, s) + 1, -k, k)
                for k, (_, s, e) in enumerate(predicted)
                if s <= end and start <= e
            ]
            if overlaps:
                k = max(overlaps)[2]
                paired.add(k)
                add(name, predicted[k][0])
            else:
                add(name, MISSED)
        for k, (name, _, _) in enumerate(predicted):
            if k not in paired:
                add(SPURIOUS, name)
    return {gold: dict(sorted(row.items())) for gold, row in sorted(table.items())}


def _position(entity: tuple[str, int, int]) -> tuple[int, int, str]:
    return (entity[1], entity[2], entity[0])


def _dicts(doc: set[tuple[str, int, int]]) -> list[dict]:
    return [{"label": t, "start": s, "end": e} for t, s, e in sorted(doc, key=_position)]


def _counts(result) -> dict[str, int]:
    return {name: int(getattr(result, name)) for name in CATEGORIES}
