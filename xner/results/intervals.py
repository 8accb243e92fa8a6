"""Confidence intervals for entity F1: bootstrap over test sentences, paired run comparisons,
Student-t intervals over seeds, and the few-shot size at which fine-tuning beats zero-shot.

A single F1 on one test set hides two kinds of noise: which sentences happen to be in the test
set (the bootstrap resamples them) and which seed trained the model (the t-interval over seeds).
Both are needed to tell a real difference from luck, and to size the tolerances the expected
tables are compared with.

Everything here works on per-sentence entity counts, shape (n_sentences, n_types, 3) with the
last axis (true positives, false positives, false negatives). Micro F1 is not a mean over
sentences, but it is a function of summed counts, so resampling sentences is a weighted sum of
the count rows: one matrix product per block of resamples instead of one seqeval call each.

Pure numpy and seqeval (scipy, which seqeval already pulls in through scikit-learn, only for
the t quantile): no torch, transformers or datasets, so tables and notebooks can import it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from xner.spec.labels import ENTITY_TYPES
from xner.spec.recipe import BOOTSTRAP_RESAMPLES  # noqa: F401 - the default, importable from here
from xner.spec.recipe import METRIC_MODES as MODES  # as xner.metrics.entity_f1

TP, FP, FN = 0, 1, 2  # positions on the last axis of the counts
_BLOCK = 64  # resamples per matrix product: bounds memory at 64 x n weights


# --- counts -------------------------------------------------------------------------------


def sentence_counts(
    y_true: Sequence[Sequence[str]],
    y_pred: Sequence[Sequence[str]],
    entity_types: Sequence[str] = ENTITY_TYPES,
    mode: str = "default",
) -> np.ndarray:
    """Per sentence and entity type, the (true positive, false positive, false negative) counts.

    Returns an int64 array of shape (len(y_true), len(entity_types), 3). Entities are found as
    `xner.results.metrics.entity_f1` finds them, so that summed counts give exactly its F1:
    `mode="default"` is seqeval's conlleval-compatible `get_entities` over all sentences joined
    by "O" (what seqeval itself does), `mode="strict"` is `seqeval.scheme.Entities` with IOB2.
    An entity counts in the sentence it starts in.

    Raises ValueError for an unknown mode, different numbers of sentences, a sentence whose
    true and predicted lengths differ (naming its index), or an entity type not in
    `entity_types` (dropping it would make the counts disagree with entity_f1).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    true_rows = _as_rows(y_true)
    pred_rows = _as_rows(y_pred)
    if len(true_rows) != len(pred_rows):
        raise ValueError(f"{len(true_rows)} true sentences but {len(pred_rows)} predicted")
    for i, (t, p) in enumerate(zip(true_rows, pred_rows, strict=True)):
        if len(t) != len(p):
            raise ValueError(f"sentence {i}: {len(t)} true tags but {len(p)} predicted")
    types = {name: k for k, name in enumerate(entity_types)}
    if len(types) != len(entity_types):
        raise ValueError(f"entity types repeat: {tuple(entity_types)}")
    true_entities = _entities(true_rows, mode)
    pred_entities = _entities(pred_rows, mode)
    counts = np.zeros((len(true_rows), len(types), 3), dtype=np.int64)
    for column, found in (
        (TP, true_entities & pred_entities),
        (FP, pred_entities - true_entities),
        (FN, true_entities - pred_entities),
    ):
        if not found:
            continue
        sentence, type_index = _locate(found, types, entity_types)
        np.add.at(counts, (sentence, type_index, column), 1)
    return counts


def _as_rows(tags: Sequence[Sequence[str]]) -> list[list[str]]:
    """Plain lists of str, as entity_f1 builds them (seqeval mis-handles numpy rows)."""
    return [list(map(str, row)) for row in tags]


def _entities(rows: list[list[str]], mode: str) -> set[tuple[int, str, int, int]]:
    """The entities of all sentences as a set of (sentence, type, start, end).

    A set because seqeval matches sets: an entity is a true positive when the same
    (type, span) is in both the true and the predicted set.
    """
    # seqeval is imported here, not with the module: it loads scikit-learn (seconds), which
    # reading, tabulating and comparing saved runs never needs.
    from seqeval.metrics.sequence_labeling import get_entities
    from seqeval.scheme import IOB2, Entities

    if mode == "strict":
        return {
            (i, entity.tag, entity.start, entity.end)
            for i, sentence in enumerate(Entities(rows, IOB2).entities)
            for entity in sentence
        }
    # seqeval joins the sentences with one "O" after each and chunks the whole list once; doing
    # the same keeps even ill-formed tags chunked exactly as entity_f1 chunks them.
    kept, position, sentence = _without_repeated_o(rows)
    return {
        (sentence[start], name, position[start], position[end])
        for name, start, end in get_entities(kept)
    }


def sentence_entities(
    tags: Sequence[Sequence[str]], mode: str = "default"
) -> list[set[tuple[str, int, int]]]:
    """Per sentence, its entities as (type, first word, last word), found exactly as
    `sentence_counts` (and so entity_f1) finds them."""
    rows = _as_rows(tags)
    starts = np.cumsum([0] + [len(row) + 1 for row in rows])  # seqeval's joined positions
    found: list[set[tuple[str, int, int]]] = [set() for _ in rows]
    for i, name, start, end in _entities(rows, mode):
        if mode == "strict":  # seqeval's Entities end one past the last word
            found[i].add((name, start, end - 1))
        else:
            found[i].add((name, start - int(starts[i]), end - int(starts[i])))
    return found


def _without_repeated_o(rows: list[list[str]]) -> tuple[list[str], list[int], list[int]]:
    """The sentences joined as seqeval joins them (an "O" after each), less every "O" that
    follows an "O"; with each kept tag's position in the joined list and its sentence.

    Most tags are "O", and seqeval's chunker is a Python loop, so this makes it 2-3x faster
    without changing a chunk: after an "O" its state is always (prev "O", type "_"), which a
    further "O" leaves as it is, and no chunk starts or ends on an "O" (a start needs a tag
    other than "O", an end at i - 1 needs a tag at i - 1 other than "O"), so each chunk keeps
    its first and last tag and maps back to the same span.
    """
    kept, position, sentence = [], [], []
    last_was_o = False
    offset = 0
    for i, row in enumerate(rows):
        for tag in [*row, "O"]:
            if tag != "O" or not last_was_o:
                kept.append(tag)
                position.append(offset)
                sentence.append(i)
                last_was_o = tag == "O"
            offset += 1
    return kept, position, sentence


def _locate(
    entities: set[tuple[int, str, int, int]], types: dict[str, int], names: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(sentence indices, type indices) of the entities; an unknown type is an error."""
    sentence, type_index = [], []
    for i, name, _, _ in entities:
        if name not in types:
            raise ValueError(f"sentence {i}: entity type {name!r} is not one of {tuple(names)}")
        sentence.append(i)
        type_index.append(types[name])
    return np.asarray(sentence, dtype=np.intp), np.asarray(type_index, dtype=np.intp)


def _check_counts(counts: np.ndarray, name: str = "counts") -> np.ndarray:
    """`counts` as a float64 (n, types, 3) array, refusing what sentence_counts cannot give."""
    array = np.asarray(counts)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"{name} must have shape (sentences, types, 3), got {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name}: no sentences to resample")
    if (array < 0).any():
        raise ValueError(f"{name}: negative entity counts")
    return array.astype(np.float64)


# --- F1 ------------------------------------------------------------------------------------


class F1(NamedTuple):
    """Micro F1 over the entity types, and F1 per type (last axis in the counts' type order)."""

    micro: np.ndarray
    per_type: np.ndarray


def f1_from_counts(counts: np.ndarray) -> F1:
    """Micro and per-type F1 of summed counts, shape (..., types, 3), over any leading axes.

    Pass totals, e.g. `counts.sum(axis=0)`: each leading index is scored on its own (a
    per-sentence array gives per-sentence F1). Computed as seqeval computes it with
    `zero_division=0` (entity_f1's setting), in the same order of operations: precision and
    recall are 0 when their denominator is 0, and F1 = 2PR / (P + R) is 0 when P + R is 0. A
    type with no true and no predicted entity so scores 0 (entity_f1 leaves it out instead).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim < 2 or counts.shape[-1] != 3:
        raise ValueError(f"counts must have shape (..., types, 3), got {counts.shape}")
    per_type = _f1(counts[..., TP], counts[..., FP], counts[..., FN])
    totals = counts.sum(axis=-2)
    micro = _f1(totals[..., TP], totals[..., FP], totals[..., FN])
    return F1(micro=micro, per_type=per_type)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    precision = _divide(tp, tp + fp)
    recall = _divide(tp, tp + fn)
    return _divide(2.0 * precision * recall, precision + recall)


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (seqeval's zero_division=0)."""
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)


# --- intervals -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A point estimate and the bounds of its confidence interval."""

    estimate: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.estimate:.4f} [{self.low:.4f}, {self.high:.4f}]"

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def to_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}

    @classmethod
    def from_dict(cls, data: Mapping[str, float]) -> Interval:
        return cls(float(data["estimate"]), float(data["low"]), float(data["high"]))


@dataclass(frozen=True)
class Intervals:
    """Bootstrap intervals of one run on one test set, with what reproduces them.

    `per_type` holds the types with at least one true or predicted entity in the test set,
    sorted by name: the keys of entity_f1's `per_type`.
    """

    micro: Interval
    per_type: dict[str, Interval]
    resamples: int
    seed: int
    level: float

    def __str__(self) -> str:
        types = ", ".join(f"{name} {interval}" for name, interval in self.per_type.items())
        head = f"F1 {self.micro} ({self.level * 100:g}%, {self.resamples} resamples)"
        return f"{head}; {types}" if types else head

    def to_dict(self) -> dict:
        return {
            "micro": self.micro.to_dict(),
            "per_type": {name: iv.to_dict() for name, iv in self.per_type.items()},
            "resamples": self.resamples,
            "seed": self.seed,
            "level": self.level,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Intervals:
        return cls(
            micro=Interval.from_dict(data["micro"]),
            per_type={name: Interval.from_dict(iv) for name, iv in data["per_type"].items()},
            resamples=int(data["resamples"]),
            seed=int(data["seed"]),
            level=float(data["level"]),
        )


def resample_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    """The sentence indices of every resample, shape (resamples, n).

    Exactly `np.random.default_rng(seed).integers(0, n, size=(resamples, n), dtype=np.int32)`:
    bootstrap and paired_bootstrap draw these (block by block, which gives the same numbers),
    so anyone can rebuild a resample's sentences and rescore them with seqeval.
    """
    return np.concatenate(list(_index_blocks(n, resamples, seed)))


def _index_blocks(n: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    if not 0 < n < 2**31:
        raise ValueError(f"cannot resample {n} sentences")
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, _BLOCK):
        yield rng.integers(0, n, size=(min(_BLOCK, resamples - start), n), dtype=np.int32)


def _resampled_totals(counts: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Summed counts of every resample, shape (resamples, *counts.shape[1:]).

    Each resample is a row of how often each sentence was drawn (a bincount of its indices)
    times the count rows: faster on two cores than numpy's multinomial draw of the same
    weights, and far lighter than gathering (resamples, n, types, 3).
    """
    n = counts.shape[0]
    rows = counts.reshape(n, -1)
    totals = np.empty((resamples, rows.shape[1]))
    done = 0
    for block in _index_blocks(n, resamples, seed):
        weights = np.empty(block.shape)
        for r, indices in enumerate(block):
            weights[r] = np.bincount(indices, minlength=n)
        totals[done : done + len(block)] = weights @ rows
        done += len(block)
    return totals.reshape(resamples, *counts.shape[1:])


def _percentiles(values: np.ndarray, level: float) -> np.ndarray:
    """The percentile interval along axis 0: the (1 - level) / 2 and (1 + level) / 2 quantiles
    of the resampled values, numpy's default linear interpolation."""
    return np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=0)


def _check_options(resamples: int, level: float) -> None:
    if resamples < 0:
        raise ValueError(f"resamples must be 0 or more, got {resamples}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")


def bootstrap(
    counts: np.ndarray,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    entity_types: Sequence[str] = ENTITY_TYPES,
) -> Intervals | None:
    """Percentile bootstrap intervals of micro F1 and of each type's F1 over test sentences.

    The test sentences are resampled with replacement (`resample_indices(n, resamples, seed)`)
    and F1 is recomputed from each resample's summed counts; the interval is the central
    `level` of those F1s. The estimate is the F1 of the whole test set, equal to entity_f1's.
    `resamples=0` asks for no interval and returns None (a run configured without intervals
    needs no special case at the call site).
    """
    _check_options(resamples, level)
    array = _check_counts(counts)
    if array.shape[1] != len(entity_types):
        raise ValueError(f"counts have {array.shape[1]} types but {len(entity_types)} names")
    if resamples == 0:
        return None
    estimate = f1_from_counts(array.sum(axis=0))
    resampled = f1_from_counts(_resampled_totals(array, resamples, seed))
    micro_low, micro_high = _percentiles(resampled.micro, level)
    type_low, type_high = _percentiles(resampled.per_type, level)
    present = array.sum(axis=(0, 2)) > 0  # a true or a predicted entity of the type
    per_type = {
        name: Interval(float(estimate.per_type[k]), float(type_low[k]), float(type_high[k]))
        for k, name in enumerate(entity_types)
        if present[k]
    }
    return Intervals(
        micro=Interval(float(estimate.micro), float(micro_low), float(micro_high)),
        per_type=dict(sorted(per_type.items())),
        resamples=resamples,
        seed=seed,
        level=level,
    )


# --- paired comparison ---------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """F1 of run b minus F1 of run a on the same test sentences, with its bootstrap interval.

    `significant` is True when the interval excludes 0; `p_value` is two-sided (see
    paired_bootstrap) and reported alongside, not used for the decision.
    """

    delta: float
    low: float
    high: float
    p_value: float
    significant: bool

    def __str__(self) -> str:
        verdict = "significant" if self.significant else "not significant"
        return (
            f"{self.delta:+.4f} [{self.low:+.4f}, {self.high:+.4f}], "
            f"p = {self.p_value:.3f}, {verdict}"
        )


def paired_bootstrap(
    counts_a: np.ndarray,
    counts_b: np.ndarray,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Difference | None:
    """Paired bootstrap of micro F1(b) - F1(a) on the same test sentences.

    Both runs are rescored on the same resampled sentences (row i of both counts must be the
    same sentence), so what the test set does to both cancels out and only their difference
    varies. The interval is the percentile interval of the resampled differences; the
    difference is significant when that interval excludes 0. The p-value is the two-sided
    percentile-bootstrap one: twice the smaller of the fractions of resampled differences
    <= 0 and >= 0, capped at 1 (identical runs: every difference is 0, p = 1). `resamples=0`
    returns None, as bootstrap does.
    """
    _check_options(resamples, level)
    a = _check_counts(counts_a, "counts_a")
    b = _check_counts(counts_b, "counts_b")
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            "paired bootstrap needs the same test sentences: "
            f"run a has {a.shape[0]} sentences, run b has {b.shape[0]}"
        )
    if a.shape != b.shape:
        raise ValueError(f"counts_a {a.shape} and counts_b {b.shape} differ in entity types")
    if resamples == 0:
        return None
    both = np.concatenate([a, b], axis=1)  # one resampling, the same indices for both runs
    types = a.shape[1]
    delta = _micro_difference(both.sum(axis=0), types)
    deltas = _micro_difference(_resampled_totals(both, resamples, seed), types)
    low, high = _percentiles(deltas, level)
    p_value = min(1.0, 2 * min(np.mean(deltas <= 0), np.mean(deltas >= 0)))
    return Difference(
        delta=float(delta),
        low=float(low),
        high=float(high),
        p_value=float(p_value),
        significant=bool(low > 0 or high < 0),
    )


def _micro_difference(both: np.ndarray, types: int) -> np.ndarray:
    """Micro F1 of b minus a, from counts with a's types then b's on the type axis."""
    return f1_from_counts(both[..., types:, :]).micro - f1_from_counts(both[..., :types, :]).micro


# --- seeds ---------------------------------------------------------------------------------


def t_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """Mean of the values (F1 over seeds) and its Student-t confidence interval.

    mean +- t(level, n - 1) * s / sqrt(n) with the sample standard deviation s. One value says
    nothing about the spread, so its interval is the value itself (low = high = estimate)
    rather than infinite.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"t_interval needs a non-empty list of values, got shape {array.shape}")
    mean = float(array.mean())
    if array.size == 1:
        return Interval(mean, mean, mean)
    from scipy.stats import t  # scipy comes with seqeval (via scikit-learn); imported late

    half = float(t.ppf((1 + level) / 2, df=array.size - 1)) * _sample_std(array)
    half /= math.sqrt(array.size)
    return Interval(mean, mean - half, mean + half)


def _sample_std(values: np.ndarray) -> float:
    """Sample standard deviation (ddof=1); 0 for fewer than two values."""
    return float(values.std(ddof=1)) if values.size > 1 else 0.0


def suggest_tolerance(seed_f1s: Sequence[float], half_width: float) -> float:
    """A tolerance for comparing a run with its expected F1: the larger of 3 x the seeds'
    sample standard deviation and the bootstrap half-width, rounded up to 3 decimals.

    Seeds and test sentences are both noise the comparison must absorb, and rounding up keeps
    a tolerance from being tighter than measured. One seed gives no spread (its standard
    deviation counts as 0). Round-off below 1e-9 is dropped before rounding up, so that
    3 x 0.01 gives 0.030, not 0.031.
    """
    spread = 3 * _sample_std(np.asarray(seed_f1s, dtype=np.float64))
    if half_width < 0:
        raise ValueError(f"half_width must be 0 or more, got {half_width}")
    return math.ceil(round(max(spread, half_width) * 1000, 6)) / 1000


# --- few-shot crossover --------------------------------------------------------------------


@dataclass(frozen=True)
class Crossover:
    """Where few-shot fine-tuning starts to beat zero-shot on a test set.

    `upper` is the smallest few-shot size whose paired difference against zero-shot is
    significantly positive, `lower` the largest size tried below it (0, zero-shot itself, when
    `upper` is the smallest size tried): the crossover lies in (lower, upper]. Both are None
    when no size is significantly better. `differences` holds every size's comparison.
    """

    lower: int | None
    upper: int | None
    level: float
    differences: dict[int, Difference]

    @property
    def found(self) -> bool:
        return self.upper is not None

    def __str__(self) -> str:
        confidence = f"{self.level * 100:g}%"
        if self.upper is None:
            sizes = ", ".join(f"{n:,}" for n in self.differences)
            return (
                f"no few-shot size tried ({sizes} sentences) beats zero-shot "
                f"significantly at {confidence} confidence"
            )
        lower = "0 (zero-shot)" if self.lower == 0 else f"{self.lower:,}"
        return f"between {lower} and {self.upper:,} sentences, {confidence} confident"


def crossover(
    zero_shot: np.ndarray,
    few_shot: Mapping[int, np.ndarray],
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Crossover:
    """Bracket the few-shot size at which fine-tuning beats zero-shot.

    `zero_shot` and each `few_shot[n]` are sentence_counts on the same test set. Every size is
    compared with zero-shot by paired_bootstrap (the same seed, so the same resamples), and the
    smallest significantly positive size is the crossover's upper end. Sizes are not corrected
    for multiple comparisons, and a larger size that is not significant does not undo a smaller
    one that is: the bracket is the first crossing.
    """
    if resamples < 1:
        raise ValueError(f"crossover needs at least one resample, got {resamples}")
    if not few_shot:
        raise ValueError("crossover needs at least one few-shot size")
    sizes = sorted(few_shot)
    if sizes[0] < 1:
        raise ValueError(f"few-shot sizes must be positive, got {sizes[0]}")
    differences = {}
    for n in sizes:
        difference = paired_bootstrap(zero_shot, few_shot[n], resamples, seed, level)
        assert difference is not None  # resamples >= 1
        differences[n] = difference
    better = [n for n in sizes if differences[n].low > 0]  # significant and positive
    if not better:
        return Crossover(lower=None, upper=None, level=level, differences=differences)
    upper = better[0]
    below = [n for n in sizes if n < upper]
    return Crossover(
        lower=below[-1] if below else 0, upper=upper, level=level, differences=differences
    )


# --- storing counts with a result ----------------------------------------------------------


def encode_counts(counts: np.ndarray) -> str:
    """Per-sentence counts as compact text for results.json: mostly zeros, so zlib takes a
    10,000-sentence test set to a few kilobytes. The shape goes first: `n,types;base64`."""
    array = _check_counts(np.asarray(counts))
    if array.size and array.max() > np.iinfo(np.uint16).max:
        raise ValueError("a sentence with more than 65,535 entities of one type")
    payload = base64.b64encode(zlib.compress(array.astype("<u2").tobytes(), 9)).decode("ascii")
    return f"{array.shape[0]},{array.shape[1]};{payload}"


def decode_counts(text: str) -> np.ndarray:
    """The array `encode_counts` wrote, with a clear error for text it did not write."""
    try:
        shape, payload = text.split(";", 1)
        n, types = (int(x) for x in shape.split(","))
        raw = zlib.decompress(base64.b64decode(payload, validate=True))
        return np.frombuffer(raw, dtype="<u2").astype(np.int64).reshape(n, types, 3)
    except (ValueError, zlib.error, binascii.Error) as err:
        raise ValueError(f"sentence counts that xner did not write: {err}") from None


def rebootstrap(results: Iterable, resamples: int, seed: int = 0) -> list:
    """Results (xner.results.records.Result) with their intervals recomputed from their stored
    counts at `resamples` (0: no intervals); results without counts are returned as they are."""
    redone = []
    for result in results:
        if result.sentence_counts is not None:
            names = getattr(result, "entity_types", None) or ENTITY_TYPES
            intervals = bootstrap(
                decode_counts(result.sentence_counts), resamples, seed, 0.95, names
            )
            result = dataclasses.replace(
                result, interval=intervals.to_dict() if intervals is not None else None
            )
        redone.append(result)
    return redone
