"""Bootstrap and t intervals of entity F1 against seqeval (through xner.results.metrics.entity_f1),
brute-force resampling, hand-worked cases and textbook t quantiles."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.generators import tags
from xner.data.synthetic import tag_pairs
from xner.results.intervals import (
    Crossover,
    Difference,
    Interval,
    Intervals,
    bootstrap,
    crossover,
    f1_from_counts,
    paired_bootstrap,
    resample_indices,
    sentence_counts,
    suggest_tolerance,
    t_interval,
)
from xner.results.metrics import entity_f1
from xner.spec.labels import ENTITY_TYPES, TAGS

# --- inputs ---------------------------------------------------------------------------------

#: One sentence as (true tag id, predicted tag id, predicted is a copy of true) per word: the
#: copies keep predictions close to the truth, as a trained model's are.
word_pairs = st.lists(st.tuples(tags, tags, st.booleans()), min_size=0, max_size=12)


def to_tags(sentences: list[list[tuple[int, int, bool]]]) -> tuple[list, list]:
    true = [[TAGS[t] for t, _, _ in words] for words in sentences]
    pred = [[TAGS[t] if copy else TAGS[p] for t, p, copy in words] for words in sentences]
    return true, pred


#: A test set of 1 to 10 sentences of any PAN-X tags, well-formed or not.
tag_sets = st.lists(word_pairs, min_size=1, max_size=10).map(to_tags)
modes = st.sampled_from(["default", "strict"])
seeds = st.integers(0, 2**32 - 1)


def one_entity_sentence(entity: str, outcome: str, left: int, right: int) -> tuple[list, list]:
    """A sentence with exactly one true and exactly one predicted entity, in both modes:
    the prediction is right, of another type, or one word too long."""
    true = ["O"] * left + [f"B-{entity}", "O"] + ["O"] * right
    if outcome == "right":
        guess = [f"B-{entity}", "O"]
    elif outcome == "type":
        other = ENTITY_TYPES[(ENTITY_TYPES.index(entity) + 1) % len(ENTITY_TYPES)]
        guess = [f"B-{other}", "O"]
    else:
        guess = [f"B-{entity}", f"I-{entity}"]
    return true, ["O"] * left + guess + ["O"] * right


one_entity_sentences = st.builds(
    one_entity_sentence,
    st.sampled_from(ENTITY_TYPES),
    st.sampled_from(["right", "type", "span"]),
    st.integers(0, 3),
    st.integers(0, 3),
)


def one_entity_set(sentences: list[tuple[list, list]]) -> tuple[list, list]:
    return [t for t, _ in sentences], [p for _, p in sentences]


def correct_fraction(true: list, pred: list) -> float:
    """With one true and one predicted entity per sentence, tp = k, fp = fn = n - k, so
    P = R = F1 = k / n: the fraction of sentences predicted right."""
    return sum(t == p for t, p in zip(true, pred, strict=True)) / len(true)


def run_with(correct: list[bool]) -> tuple[list, list]:
    """True and predicted tags of a test set with one PER per sentence, right where `correct`."""
    sentences = [one_entity_sentence("PER", "right" if ok else "type", 1, 1) for ok in correct]
    return one_entity_set(sentences)


def quiet_f1(true, pred, mode="default"):
    """entity_f1 without seqeval's 'Mean of empty slice' warning on a resample without any
    entity (the F1 is 0 either way)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return entity_f1(true, pred, mode=mode)


# --- sentence_counts and f1_from_counts -----------------------------------------------------


@given(tag_sets, modes)
def test_summed_counts_give_entity_f1(tag_set, mode):
    true, pred = tag_set
    counts = sentence_counts(true, pred, mode=mode)
    assert counts.shape == (len(true), len(ENTITY_TYPES), 3)
    scores = quiet_f1(true, pred, mode)
    f1 = f1_from_counts(counts.sum(axis=0))
    assert float(f1.micro) == pytest.approx(scores.f1, abs=1e-12)
    per_type = dict(zip(ENTITY_TYPES, f1.per_type.tolist(), strict=True))
    for name, value in scores.per_type.items():
        assert per_type[name] == pytest.approx(value, abs=1e-12)
    totals = counts.sum(axis=0)
    for k, name in enumerate(ENTITY_TYPES):
        if name not in scores.per_type:  # seqeval lists the types it saw at all
            assert totals[k].tolist() == [0, 0, 0]
    assert int(totals[:, 0].sum() + totals[:, 2].sum()) == scores.support  # tp + fn = true
    tp, fp = totals[:, 0].sum(), totals[:, 1].sum()
    assert (tp / (tp + fp) if tp + fp else 0.0) == pytest.approx(scores.precision, abs=1e-12)


@given(tag_sets, modes)
def test_each_sentences_counts_score_that_sentence(tag_set, mode):
    true, pred = tag_set
    counts = sentence_counts(true, pred, mode=mode)
    for i, (t, p) in enumerate(zip(true, pred, strict=True)):
        scores = quiet_f1([t], [p], mode)
        assert float(f1_from_counts(counts[i]).micro) == pytest.approx(scores.f1, abs=1e-12)
        assert int(counts[i, :, 0].sum() + counts[i, :, 2].sum()) == scores.support


#: Tags seqeval's default mode chunks without complaint (beyond a warning) though PAN-X has
#: none: IOBES prefixes, bare prefixes, "." (never closes a chunk), an "O" with a type.
ODD_TAGS = (*TAGS, ".PER", ".", "X", "B", "I", "E", "S", "E-PER", "S-LOC", "O-PER", "I-")
odd_words = st.lists(
    st.tuples(st.sampled_from(ODD_TAGS), st.sampled_from(ODD_TAGS), st.booleans()), max_size=12
)


@given(st.lists(odd_words, min_size=1, max_size=10))
def test_summed_counts_give_entity_f1_for_ill_formed_tags_too(sentences):
    # The counts chunk all sentences at once as seqeval does (dropping repeated "O"s), so
    # even chunks that run across a sentence end, or that "O"s never close, are seqeval's.
    true = [[t for t, _, _ in words] for words in sentences]
    pred = [[t if copy else p for t, p, copy in words] for words in sentences]
    names = (*ENTITY_TYPES, "_")  # bare prefixes, ".", "X" and "I-" have the type "_"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "X seems not to be NE tag", empty means
        scores = entity_f1(true, pred)
        totals = sentence_counts(true, pred, entity_types=names).sum(axis=0)
    f1 = f1_from_counts(totals)
    assert float(f1.micro) == pytest.approx(scores.f1, abs=1e-12)
    per_type = dict(zip(names, f1.per_type.tolist(), strict=True))
    for name, value in scores.per_type.items():
        assert per_type[name] == pytest.approx(value, abs=1e-12)
    assert int(totals[:, 0].sum() + totals[:, 2].sum()) == scores.support


def test_hand_worked_counts():
    true = [["B-PER", "I-PER", "O", "B-ORG", "O", "B-LOC"], ["B-LOC", "O", "B-PER"]]
    pred = [["B-PER", "O", "O", "B-ORG", "O", "B-LOC"], ["B-LOC", "O", "B-ORG"]]
    # sentence 0: PER[0:2] vs PER[0:1] -> PER fp 1, fn 1; ORG[3] tp; LOC[5] tp
    # sentence 1: LOC[0] tp; PER[2] missed (fn), ORG[2] spurious (fp)
    #                    PER        ORG        LOC   (tp, fp, fn)
    expected = [[[0, 1, 1], [1, 0, 0], [1, 0, 0]], [[0, 0, 1], [0, 1, 0], [1, 0, 0]]]
    counts = sentence_counts(true, pred, entity_types=("PER", "ORG", "LOC"))
    assert counts.tolist() == expected
    assert counts.dtype == np.int64


def test_modes_chunk_an_entity_opened_by_an_i_tag_differently():
    true = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["I-PER", "I-PER", "O", "B-LOC"]]
    # default: I-PER opens PER[0:2] -> PER tp; strict: no predicted PER -> PER fn
    default = sentence_counts(true, pred, entity_types=("PER", "LOC"))
    strict = sentence_counts(true, pred, entity_types=("PER", "LOC"), mode="strict")
    assert default.tolist() == [[[1, 0, 0], [1, 0, 0]]]
    assert strict.tolist() == [[[0, 0, 1], [1, 0, 0]]]


def test_numpy_rows_are_accepted():
    true = np.array([["B-PER", "I-PER", "O"]])
    pred = np.array([["B-PER", "O", "O"]])
    # PER[0:2] vs PER[0:1]: fp 1, fn 1
    assert sentence_counts(true, pred, entity_types=("PER",)).tolist() == [[[0, 1, 1]]]


def test_mismatched_sentence_length_names_the_sentence():
    true = [["O"], ["B-PER"], ["B-LOC", "O", "O"]]
    pred = [["O"], ["B-PER"], ["B-LOC", "O"]]
    with pytest.raises(ValueError, match="sentence 2: 3 true tags but 2 predicted"):
        sentence_counts(true, pred)


def test_mismatched_number_of_sentences_raises():
    with pytest.raises(ValueError, match="2 true sentences but 1 predicted"):
        sentence_counts([["O"], ["O"]], [["O"]])


def test_an_entity_type_outside_the_list_is_an_error_not_dropped():
    with pytest.raises(ValueError, match=r"sentence 1: entity type 'MISC' is not one of"):
        sentence_counts([["O"], ["B-MISC"]], [["O"], ["O"]])


def test_unknown_mode_raises():
    with pytest.raises(ValueError, match="mode"):
        sentence_counts([["O"]], [["O"]], mode="lenient")


def test_f1_from_counts_is_vectorised_and_zero_when_undefined():
    counts = np.array(
        [
            # PER tp 1 fp 1 -> P 1/2, R 1 -> F1 2/3; ORG nothing -> 0; LOC fn only -> 0
            [[1, 1, 0], [0, 0, 0], [0, 0, 2]],
            # nothing at all: micro and every type 0
            [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
        ]
    )
    f1 = f1_from_counts(counts)
    assert f1.micro.shape == (2,)
    assert f1.per_type.shape == (2, 3)
    assert f1.per_type[0] == pytest.approx([2 / 3, 0.0, 0.0])
    # micro: tp 1, fp 1, fn 2 -> P 1/2, R 1/3 -> F1 = 2 * (1/6) / (5/6) = 0.4
    assert f1.micro[0] == pytest.approx(0.4)
    assert f1.micro[1] == 0.0
    assert f1.per_type[1].tolist() == [0.0, 0.0, 0.0]


# --- bootstrap -------------------------------------------------------------------------------


def test_resample_indices_are_the_documented_draw():
    expected = np.random.default_rng(7).integers(0, 13, size=(150, 13), dtype=np.int32)
    np.testing.assert_array_equal(resample_indices(13, 150, 7), expected)


@settings(max_examples=20)
@given(tag_sets, seeds)
def test_bootstrap_equals_rescoring_every_resample_with_seqeval(tag_set, seed):
    true, pred = tag_set
    resamples, level = 50, 0.9
    intervals = bootstrap(sentence_counts(true, pred), resamples, seed, level)
    full = quiet_f1(true, pred)
    indices = np.random.default_rng(seed).integers(
        0, len(true), size=(resamples, len(true)), dtype=np.int32
    )
    rescored = [
        quiet_f1([true[i] for i in row], [pred[i] for i in row]) for row in indices.tolist()
    ]
    quantiles = [(1 - level) / 2, (1 + level) / 2]
    assert intervals.micro.estimate == pytest.approx(full.f1, abs=1e-12)
    low, high = np.quantile([s.f1 for s in rescored], quantiles)
    assert (intervals.micro.low, intervals.micro.high) == pytest.approx((low, high), abs=1e-12)
    assert list(intervals.per_type) == list(full.per_type)  # the types seqeval saw, sorted
    for name, interval in intervals.per_type.items():
        assert interval.estimate == pytest.approx(full.per_type[name], abs=1e-12)
        values = [s.per_type.get(name, 0.0) for s in rescored]  # absent from a resample: 0
        low, high = np.quantile(values, quantiles)
        assert (interval.low, interval.high) == pytest.approx((low, high), abs=1e-12)
    assert (intervals.resamples, intervals.seed, intervals.level) == (resamples, seed, level)


def test_all_correct_predictions_give_one_one():
    true, _ = tag_pairs(80, seed=1)
    intervals = bootstrap(sentence_counts(true, true))
    assert intervals.micro == Interval(1.0, 1.0, 1.0)
    assert intervals.per_type == {name: Interval(1.0, 1.0, 1.0) for name in sorted(ENTITY_TYPES)}


@given(st.lists(one_entity_sentences, min_size=5, max_size=80), seeds)
def test_interval_contains_the_estimate(sentences, seed):
    # Every sentence has one true and one predicted entity, so F1 = k / n, the fraction right
    # (correct_fraction), and a resample's F1 is Binomial(n, k / n) / n. Its median is k / n
    # exactly (k / n is an integer mean), so each resample is <= and >= the estimate with
    # probability >= 1/2 each: the 2.5% quantile of 1000 resamples exceeds it (or the 97.5%
    # falls below it) only if fewer than 25 of 1000 fair-or-better coin flips land, which has
    # probability under 1e-200.
    true, pred = one_entity_set(sentences)
    intervals = bootstrap(sentence_counts(true, pred), seed=seed)
    micro = intervals.micro
    assert micro.estimate == pytest.approx(correct_fraction(true, pred), abs=1e-12)
    assert micro.low <= micro.estimate <= micro.high
    assert 0.0 <= micro.low <= micro.high <= 1.0


@given(st.lists(one_entity_sentences, min_size=20, max_size=40), seeds)
def test_repeating_the_test_set_narrows_the_interval(sentences, seed):
    # Same F1 (k / n), four times the sentences: the binomial spread halves. It is 0 only when
    # every sentence is right or every one wrong, and then both intervals are the estimate.
    true, pred = one_entity_set(sentences)
    once = bootstrap(sentence_counts(true, pred), seed=seed).micro
    four = bootstrap(sentence_counts(true * 4, pred * 4), seed=seed).micro
    assert four.estimate == pytest.approx(once.estimate, abs=1e-12)
    if 0 < once.estimate < 1:
        assert four.high - four.low < once.high - once.low
    else:
        assert once.low == once.high == four.low == four.high == once.estimate


REALISTIC = sentence_counts(*tag_pairs(300, seed=3))


@given(seeds)
def test_the_same_seed_reproduces_the_intervals(seed):
    assert bootstrap(REALISTIC, 200, seed) == bootstrap(REALISTIC, 200, seed)


@given(seeds, seeds)
def test_different_seeds_give_different_intervals(seed_a, seed_b):
    # 300 sentences of varied counts: resampled F1s are practically all distinct, so equal
    # percentiles under two seeds would mean the seed was not used.
    if seed_a == seed_b:
        seed_b = seed_a + 1
    a, b = bootstrap(REALISTIC, 200, seed_a), bootstrap(REALISTIC, 200, seed_b)
    assert (a.micro.low, a.micro.high) != (b.micro.low, b.micro.high)
    assert a.micro.estimate == b.micro.estimate


def test_no_resamples_means_no_interval():
    assert bootstrap(REALISTIC, resamples=0) is None
    assert paired_bootstrap(REALISTIC, REALISTIC, resamples=0) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resamples": -1}, "resamples"),
        ({"level": 1.0}, "level"),
        ({"level": 0.0}, "level"),
        ({"entity_types": ("PER", "ORG")}, "3 types but 2 names"),
    ],
)
def test_bootstrap_rejects_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bootstrap(REALISTIC, **kwargs)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        (np.zeros((0, 3, 3)), "no sentences"),
        (np.zeros((4, 3)), "shape"),
        (-np.ones((4, 3, 3)), "negative"),
    ],
)
def test_bootstrap_rejects_bad_counts(counts, message):
    with pytest.raises(ValueError, match=message):
        bootstrap(counts)


def test_interval_text_and_dict():
    interval = Interval(0.87523, 0.86901, 0.88114)
    assert str(interval) == "0.8752 [0.8690, 0.8811]"
    assert Interval.from_dict(json.loads(json.dumps(interval.to_dict()))) == interval
    assert interval.half_width == pytest.approx((0.88114 - 0.86901) / 2)


def test_intervals_round_trip_through_json():
    intervals = bootstrap(REALISTIC, 100, seed=5)
    assert Intervals.from_dict(json.loads(json.dumps(intervals.to_dict()))) == intervals
    assert str(intervals.micro) in str(intervals)


# --- paired bootstrap ------------------------------------------------------------------------


@settings(max_examples=20)
@given(tag_sets, st.data(), seeds)
def test_paired_bootstrap_equals_rescoring_both_runs_with_seqeval(tag_set, data, seed):
    true, pred_a = tag_set
    pred_b = [
        [data.draw(st.sampled_from(TAGS)) if data.draw(st.booleans()) else t for t in row]
        for row in true
    ]
    resamples, level = 50, 0.9
    difference = paired_bootstrap(
        sentence_counts(true, pred_a), sentence_counts(true, pred_b), resamples, seed, level
    )
    indices = np.random.default_rng(seed).integers(
        0, len(true), size=(resamples, len(true)), dtype=np.int32
    )
    deltas = np.array(
        [
            quiet_f1([true[i] for i in row], [pred_b[i] for i in row]).f1
            - quiet_f1([true[i] for i in row], [pred_a[i] for i in row]).f1
            for row in indices.tolist()
        ]
    )
    delta = quiet_f1(true, pred_b).f1 - quiet_f1(true, pred_a).f1
    low, high = np.quantile(deltas, [(1 - level) / 2, (1 + level) / 2])
    p_value = min(1.0, 2 * min(np.mean(deltas <= 0), np.mean(deltas >= 0)))
    assert difference.delta == pytest.approx(delta, abs=1e-12)
    assert (difference.low, difference.high) == pytest.approx((low, high), abs=1e-12)
    assert difference.p_value == pytest.approx(p_value, abs=1e-12)
    assert difference.significant == (low > 0 or high < 0)


@given(tag_sets, seeds)
def test_identical_runs_differ_by_zero_and_never_significantly(tag_set, seed):
    true, pred = tag_set
    counts = sentence_counts(true, pred)
    difference = paired_bootstrap(counts, counts.copy(), 200, seed)
    assert difference == Difference(0.0, 0.0, 0.0, 1.0, False)


def test_a_clearly_better_run_is_significant():
    rng = random.Random(11)
    worse = [rng.random() < 0.5 for _ in range(200)]
    better = [ok or rng.random() < 0.8 for ok in worse]  # right wherever `worse` is, and more
    true, pred_a = run_with(worse)
    _, pred_b = run_with(better)
    a, b = sentence_counts(true, pred_a), sentence_counts(true, pred_b)
    forward = paired_bootstrap(a, b)
    assert forward.delta == pytest.approx(
        correct_fraction(true, pred_b) - correct_fraction(true, pred_a), abs=1e-12
    )
    assert forward.significant
    assert forward.low > 0
    assert forward.p_value < 0.05
    backward = paired_bootstrap(b, a)
    assert backward.significant
    assert backward.high < 0
    assert backward.delta == pytest.approx(-forward.delta, abs=1e-12)
    assert "significant" in str(forward)
    assert "not significant" in str(paired_bootstrap(a, a))


def test_paired_bootstrap_with_different_test_sets_names_both_sizes():
    with pytest.raises(ValueError, match="run a has 300 sentences, run b has 299"):
        paired_bootstrap(REALISTIC, REALISTIC[:-1])


# --- seeds -----------------------------------------------------------------------------------


def test_t_interval_matches_textbook_quantiles():
    # Student t table: t(0.975, df=1) = 12.7062, t(0.95, df=1) = 6.3138, t(0.975, df=4) = 2.7764
    # [0.80, 0.82]: mean 0.81, s = 0.01 * sqrt(2), s / sqrt(2) = 0.01
    interval = t_interval([0.80, 0.82])
    assert interval.estimate == pytest.approx(0.81)
    assert interval.high - interval.estimate == pytest.approx(0.127062, abs=1e-6)
    assert interval.estimate - interval.low == pytest.approx(0.127062, abs=1e-6)
    assert t_interval([0.80, 0.82], level=0.90).high == pytest.approx(0.81 + 0.063138, abs=1e-6)
    # 0.80..0.84 by 0.01: mean 0.82, s = 0.0158114, s / sqrt(5) = 0.00707107
    five = t_interval([0.80, 0.81, 0.82, 0.83, 0.84])
    assert five.high == pytest.approx(0.82 + 2.776445 * 0.00707107, abs=1e-6)


def test_t_interval_of_one_value_is_that_value():
    assert t_interval([0.7]) == Interval(0.7, 0.7, 0.7)


def test_t_interval_needs_values():
    with pytest.raises(ValueError, match="non-empty"):
        t_interval([])


@pytest.mark.parametrize(
    ("seed_f1s", "half_width", "expected"),
    [
        ([0.80, 0.82, 0.81], 0.012, 0.030),  # s = 0.01: 3 s = 0.03 > 0.012, and not 0.031
        ([0.80, 0.80, 0.80], 0.0121, 0.013),  # no spread: the half-width, rounded up
        ([0.80, 0.8102], 0.001, 0.022),  # s = 0.0072125: 3 s = 0.0216375 -> 0.022
        ([0.75], 0.004, 0.004),  # one seed: no spread
    ],
)
def test_suggest_tolerance(seed_f1s, half_width, expected):
    assert suggest_tolerance(seed_f1s, half_width) == pytest.approx(expected, abs=1e-12)


# --- crossover -------------------------------------------------------------------------------


def crossover_runs() -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Zero-shot right on half of 200 sentences; 100 and 500 shots no different (identical
    predictions); 1000 and 2000 right wherever zero-shot is and on most of the rest."""
    rng = random.Random(5)
    zero = [rng.random() < 0.5 for _ in range(200)]
    many = [ok or rng.random() < 0.9 for ok in zero]
    true, pred_zero = run_with(zero)
    _, pred_many = run_with(many)
    zero_counts, many_counts = sentence_counts(true, pred_zero), sentence_counts(true, pred_many)
    return zero_counts, {100: zero_counts, 500: zero_counts, 1000: many_counts, 2000: many_counts}


def test_crossover_brackets_the_first_significant_size():
    zero, few = crossover_runs()
    result = crossover(zero, few)
    assert (result.lower, result.upper) == (500, 1000)
    assert result.found
    assert str(result) == "between 500 and 1,000 sentences, 95% confident"
    assert list(result.differences) == [100, 500, 1000, 2000]


def test_crossover_at_the_smallest_size_starts_from_zero_shot():
    zero, few = crossover_runs()
    result = crossover(zero, {1000: few[1000], 2000: few[2000]}, level=0.9)
    assert (result.lower, result.upper) == (0, 1000)
    assert str(result) == "between 0 (zero-shot) and 1,000 sentences, 90% confident"


def test_crossover_without_a_better_size_says_so():
    zero, few = crossover_runs()
    result = crossover(zero, {100: few[100], 500: few[500]})
    assert result == Crossover(None, None, 0.95, result.differences)
    assert not result.found
    assert str(result).startswith("no few-shot size tried (100, 500 sentences) beats zero-shot")


def test_crossover_needs_sizes_and_resamples():
    zero, few = crossover_runs()
    with pytest.raises(ValueError, match="at least one few-shot size"):
        crossover(zero, {})
    with pytest.raises(ValueError, match="resample"):
        crossover(zero, few, resamples=0)
    with pytest.raises(ValueError, match="positive"):
        crossover(zero, {0: zero})


# --- imports ---------------------------------------------------------------------------------


def test_importing_intervals_loads_no_deep_learning_stack():
    code = (
        "import sys, xner.results.intervals; "
        "print([m for m in ('torch', 'transformers', 'datasets') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
