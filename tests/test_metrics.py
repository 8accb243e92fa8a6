"""Entity-level scores against hand-worked cases, and the logits-to-tags bridge."""

from __future__ import annotations

import numpy as np
import pytest

from xner.results.metrics import EntityScores, entity_f1, logits_to_tags

TAGS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
ID2LABEL = dict(enumerate(TAGS))


def test_perfect_prediction():
    tags = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG"]]
    # 3 true entities, all predicted with exact spans and types: P = R = F1 = 1.
    scores = entity_f1(tags, [list(row) for row in tags])
    assert scores == EntityScores(
        precision=1.0,
        recall=1.0,
        f1=1.0,
        per_type={"LOC": 1.0, "ORG": 1.0, "PER": 1.0},
        support=3,
    )


def test_wrong_type_counts_as_a_miss_and_a_false_positive():
    true = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"]]
    # true: PER[0:2], LOC[3]; predicted: PER[0:2], ORG[3]. 1 correct.
    # P = 1/2, R = 1/2, F1 = 1/2.
    # PER: 1/1 -> 1.0; LOC: true 1, predicted 0 -> 0.0; ORG: true 0, predicted 1 -> 0.0.
    scores = entity_f1(true, pred)
    assert scores.precision == pytest.approx(0.5)
    assert scores.recall == pytest.approx(0.5)
    assert scores.f1 == pytest.approx(0.5)
    assert scores.per_type == pytest.approx({"LOC": 0.0, "ORG": 0.0, "PER": 1.0})
    assert scores.support == 2


def test_micro_average_and_per_type_f1():
    true = [
        ["B-PER", "I-PER", "O", "B-ORG", "O", "B-LOC"],
        ["B-LOC", "O", "B-PER"],
    ]
    pred = [
        ["B-PER", "O", "O", "B-ORG", "O", "B-LOC"],
        ["B-LOC", "O", "B-ORG"],
    ]
    # true entities (5): PER[0:2], ORG[3], LOC[5]; LOC[0], PER[2]
    # predicted (5):     PER[0:1] (span too short), ORG[3] ok, LOC[5] ok; LOC[0] ok, ORG[2] wrong
    # correct 3: P = 3/5, R = 3/5, F1 = 0.6
    # PER: 2 true, 1 predicted, 0 correct         -> F1 0
    # ORG: 1 true, 2 predicted, 1 correct: P 1/2, R 1 -> F1 = 2 * 0.5 * 1 / 1.5 = 2/3
    # LOC: 2 true, 2 predicted, 2 correct         -> F1 1
    scores = entity_f1(true, pred)
    assert scores.precision == pytest.approx(0.6)
    assert scores.recall == pytest.approx(0.6)
    assert scores.f1 == pytest.approx(0.6)
    assert scores.per_type == pytest.approx({"LOC": 1.0, "ORG": 2 / 3, "PER": 0.0})
    assert list(scores.per_type) == ["LOC", "ORG", "PER"]
    assert scores.support == 5


def test_unequal_precision_and_recall():
    true = [["B-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG"]]
    pred = [["B-PER", "O", "O", "O", "O", "O"]]
    # true 3 entities, predicted 1 (correct): P = 1/1 = 1, R = 1/3, F1 = 2 * (1/3) / (4/3) = 0.5
    scores = entity_f1(true, pred)
    assert scores.precision == pytest.approx(1.0)
    assert scores.recall == pytest.approx(1 / 3)
    assert scores.f1 == pytest.approx(0.5)
    assert scores.support == 3


def test_default_and_strict_disagree_on_an_entity_opened_by_i_tag():
    true = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["I-PER", "I-PER", "O", "B-LOC"]]
    # default (conlleval): the leading I-PER opens PER[0:2] -> both entities right:
    #   P = 2/2, R = 2/2, F1 = 1.
    default = entity_f1(true, pred, mode="default")
    assert (default.precision, default.recall, default.f1) == pytest.approx((1.0, 1.0, 1.0))
    # strict IOB2: I-PER without B-PER is no entity -> predicted only LOC[3]:
    #   P = 1/1, R = 1/2, F1 = 2 * 1 * 0.5 / 1.5 = 2/3.
    strict = entity_f1(true, pred, mode="strict")
    assert (strict.precision, strict.recall, strict.f1) == pytest.approx((1.0, 0.5, 2 / 3))
    assert strict.per_type == pytest.approx({"LOC": 1.0, "PER": 0.0})


def test_default_and_strict_disagree_on_a_type_switch_inside_an_entity():
    true = [["B-ORG", "O", "B-LOC"]]
    pred = [["B-ORG", "I-LOC", "B-LOC"]]
    # default: ORG[0] ok, I-LOC opens a spurious LOC[1], LOC[2] ok -> P = 2/3, R = 2/2, F1 = 0.8
    default = entity_f1(true, pred)
    assert (default.precision, default.recall, default.f1) == pytest.approx((2 / 3, 1.0, 0.8))
    # strict: I-LOC after B-ORG is no entity -> ORG[0], LOC[2] both ok: P = R = F1 = 1
    strict = entity_f1(true, pred, mode="strict")
    assert (strict.precision, strict.recall, strict.f1) == pytest.approx((1.0, 1.0, 1.0))


def test_default_mode_is_the_reports_conlleval_mode():
    true = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["I-PER", "I-PER", "O", "B-LOC"]]
    assert entity_f1(true, pred).f1 == pytest.approx(1.0)


def test_no_predicted_entities_scores_zero_without_error():
    # P = 0/0 -> 0 (zero_division), R = 0/1 = 0, F1 = 0
    scores = entity_f1([["B-PER", "O"]], [["O", "O"]])
    assert (scores.precision, scores.recall, scores.f1) == (0.0, 0.0, 0.0)
    assert scores.support == 1


def test_numpy_string_rows_are_accepted():
    true = np.array([["B-PER", "I-PER", "O"]])
    pred = np.array([["B-PER", "O", "O"]])
    # PER[0:2] vs PER[0:1]: no correct entity -> F1 0
    assert entity_f1(true, pred).f1 == 0.0
    assert entity_f1(true, true).f1 == 1.0


def test_mismatched_number_of_sequences_raises():
    with pytest.raises(ValueError, match="2 true sequences but 1 predicted"):
        entity_f1([["O"], ["B-PER"]], [["O"]])


def test_mismatched_sequence_length_raises():
    with pytest.raises(ValueError, match="sequence 1: 2 true tags but 3 predicted"):
        entity_f1([["O"], ["B-PER", "O"]], [["O"], ["B-PER", "O", "O"]])


@pytest.mark.parametrize("mode", ["lenient", "STRICT", "", None])
def test_unknown_mode_raises(mode):
    with pytest.raises(ValueError, match="mode"):
        entity_f1([["B-PER"]], [["B-PER"]], mode=mode)


# --- logits_to_tags ------------------------------------------------------------------------


def one_hot_logits(predicted_ids, n_labels=7) -> np.ndarray:
    """Logits whose argmax is `predicted_ids` (a 2-D list)."""
    ids = np.asarray(predicted_ids)
    logits = np.full((*ids.shape, n_labels), -1.0, dtype=np.float32)
    for index in np.ndindex(ids.shape):
        logits[(*index, ids[index])] = 3.0
    return logits


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16])
def test_logits_to_tags_drops_ignored_positions(dtype):
    # batch of 2 padded to 5 positions; -100 marks <s>, </s>, non-first subwords and padding
    labels = np.array(
        [
            [-100, 1, -100, 2, -100],
            [-100, 5, 0, -100, -100],
        ],
        dtype=dtype,
    )
    predicted = [
        [6, 1, 3, 4, 6],  # positions 1, 3 kept: B-PER, I-ORG
        [0, 5, 6, 2, 2],  # positions 1, 2 kept: B-LOC, I-LOC
    ]
    true_tags, pred_tags = logits_to_tags(one_hot_logits(predicted), labels, ID2LABEL)
    assert true_tags == [["B-PER", "I-PER"], ["B-LOC", "O"]]
    assert pred_tags == [["B-PER", "I-ORG"], ["B-LOC", "I-LOC"]]


def test_logits_to_tags_returns_plain_python_str_lists():
    labels = np.array([[-100, 3, 4, -100]], dtype=np.int64)
    logits = one_hot_logits([[0, 3, 4, 0]])
    true_tags, pred_tags = logits_to_tags(logits, labels, ID2LABEL)
    for rows in (true_tags, pred_tags):
        assert type(rows) is list
        assert all(type(row) is list for row in rows)
        assert all(type(tag) is str for row in rows for tag in row)
    assert true_tags == pred_tags == [["B-ORG", "I-ORG"]]


def test_logits_to_tags_with_numpy_int_id2label_keys():
    # id2label keyed by numpy ints (as built from np.arange) must work as well as Python ints.
    id2label = {np.int64(i): tag for i, tag in enumerate(TAGS)}
    labels = np.array([[1, 2]])
    true_tags, _ = logits_to_tags(one_hot_logits([[1, 2]]), labels, id2label)
    assert true_tags == [["B-PER", "I-PER"]]


def test_logits_to_tags_feeds_entity_f1():
    labels = np.array([[-100, 1, 2, 0, 5, -100]])
    # predicted: B-PER I-PER O B-ORG -> PER right, LOC predicted as ORG
    logits = one_hot_logits([[0, 1, 2, 0, 3, 0]])
    scores = entity_f1(*logits_to_tags(logits, labels, ID2LABEL))
    # true PER, LOC; predicted PER, ORG; 1 correct -> P = R = F1 = 1/2
    assert (scores.precision, scores.recall, scores.f1) == pytest.approx((0.5, 0.5, 0.5))


def test_logits_to_tags_all_positions_ignored_gives_empty_rows():
    labels = np.full((2, 3), -100)
    true_tags, pred_tags = logits_to_tags(one_hot_logits([[1, 1, 1], [2, 2, 2]]), labels, ID2LABEL)
    assert true_tags == pred_tags == [[], []]


@pytest.mark.parametrize(
    "logits_shape, labels_shape",
    [((2, 5, 7), (2, 4)), ((2, 5, 7), (3, 5)), ((5, 7), (5,))],
)
def test_logits_to_tags_shape_mismatch_raises(logits_shape, labels_shape):
    with pytest.raises(ValueError, match="do not match"):
        logits_to_tags(np.zeros(logits_shape), np.zeros(labels_shape, dtype=np.int64), ID2LABEL)
