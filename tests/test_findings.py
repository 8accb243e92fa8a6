"""Findings: the claim language (xner.spec.claims), checked at study load, and the judge
(xner.results.findings) on Results whose per-sentence counts are built by hand, so that every
F1 and every paired difference is known."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import make_result
from xner.results.findings import judge
from xner.results.intervals import encode_counts
from xner.results.records import Result
from xner.spec.claims import (
    Aggregate,
    CellRef,
    ClaimError,
    Comparison,
    Finding,
    Number,
    Sum,
    parse_claim,
    resolve,
)
from xner.spec.study import StudyError, load_study

N = 200  # test sentences per language

CELLS = [
    *(("zero-shot", "de", lang) for lang in ("de", "fr", "en")),
    *(("few-shot", f"fr:{n}", "fr") for n in (50, 100, 200)),
    *(("full", "all", lang) for lang in ("de", "fr", "en")),
]


def counts(correct) -> np.ndarray:
    """One true entity per sentence: found exactly in the sentences `correct`, else a wrong
    span (a false positive and a false negative). F1 = len(correct) / N."""
    array = np.zeros((N, 3, 3), dtype=np.int64)
    array[:, 0, 1] = array[:, 0, 2] = 1
    for i in correct:
        array[i, 0] = (1, 0, 0)
    return array


def result(cell, correct, seed: int = 0, study: str = "t") -> Result:
    strategy, config, lang = cell
    return make_result(
        len(correct) / N, strategy=strategy, train_langs=[config.split(":")[0]],
        eval_lang=lang, seed=seed, n_test=N, config=config, study=study,
        sentence_counts=encode_counts(counts(correct)),
    )  # fmt: skip


def finding(claim: str, cells=CELLS) -> Finding:
    return Finding("t", "f", "says", claim, resolve(parse_claim(claim), cells))


# A study's figures: German 0.90, French 0.50, English 0.30 zero-shot; the few-shot curve 0.20,
# 0.60, 0.80 on French (the first sentences of zero-shot's correct ones and more); full 0.85.
FIGURES = {
    ("zero-shot", "de", "de"): range(180),
    ("zero-shot", "de", "fr"): range(100),
    ("zero-shot", "de", "en"): range(60),
    ("few-shot", "fr:50", "fr"): range(40),
    ("few-shot", "fr:100", "fr"): range(120),
    ("few-shot", "fr:200", "fr"): range(160),
    ("full", "all", "de"): range(170),
    ("full", "all", "fr"): range(170),
    ("full", "all", "en"): range(170),
}
RESULTS = [result(cell, correct) for cell, correct in FIGURES.items()]


# --- the judge ------------------------------------------------------------------------------


def test_a_false_claim_is_contradicted_with_its_interval():
    verdict = judge(finding("zero-shot:de->de < zero-shot:de->fr"), RESULTS)
    assert verdict.verdict == "contradicted"
    d = verdict.deciding
    assert d.estimate == pytest.approx(0.90 - 0.50)
    assert 0 < d.low < 0.40 < d.high  # on the other side of 0, around the difference
    assert verdict.line == (
        f"t-f: contradicted: zero-shot:de->de - zero-shot:de->fr = +0.4000 "
        f"[{d.low:+.4f}, {d.high:+.4f}] (95%), claimed < 0"
    )


def test_a_true_claim_holds_and_names_its_weakest_difference():
    claim = "zero-shot:de->de - zero-shot:de->fr > 0.2 and zero-shot:de->en < zero-shot:de->fr"
    verdict = judge(finding(claim), RESULTS)
    assert verdict.verdict == "holds"
    assert [d.side for d in verdict.decisions] == ["holds", "holds"]
    assert verdict.deciding == min(verdict.decisions, key=lambda d: d.margin)
    first = verdict.decisions[0]
    assert first.threshold == 0.2 and first.low > 0.2


def test_a_straddling_difference_is_not_established():
    # The same French F1 (0.50), reached on sentences that differ by 20 of 200.
    other = result(("full", "all", "fr"), [*range(90), *range(150, 160)])
    verdict = judge(finding("full:all->fr > zero-shot:de->fr"), [*RESULTS[:-2], other])
    assert verdict.verdict == "not established"
    d = verdict.deciding
    assert d.estimate == pytest.approx(0.0) and d.low < 0 < d.high
    assert "not established: full:all->fr - zero-shot:de->fr = +0.0000 [" in verdict.line


def test_pairing_on_shared_sentences_narrows_the_interval():
    """Nested correct sets: the difference comes from 10 sentences only. Paired, its interval
    is far narrower than the two F1s' intervals would give unpaired."""
    a = result(("full", "all", "fr"), range(110))
    verdict = judge(finding("full:all->fr > zero-shot:de->fr"), [RESULTS[1], a])
    d = verdict.deciding
    assert verdict.verdict == "holds" and d.estimate == pytest.approx(0.05)
    assert d.high - d.low < 0.07  # unpaired, each F1 alone spans about 0.14


def test_crossover_holds_between_the_sizes_it_passes_at():
    assert judge(finding("crossover(few-shot, zero-shot:de->fr) between 50 and 100"),
                 RESULTS).verdict == "holds"  # fmt: skip
    late = judge(finding("crossover(few-shot, zero-shot:de->fr) between 100 and 200"), RESULTS)
    assert late.verdict == "contradicted"
    assert late.deciding.difference == "few-shot:fr:100->fr - zero-shot:de->fr"


def test_aggregates_over_a_row():
    verdict = judge(finding("min(full:all->*) > 0.7 and max(full:all->*) < 0.95"), RESULTS)
    assert verdict.verdict == "holds"
    assert verdict.decisions[0].difference == "min(full:all->*)"
    mean = judge(finding("mean(zero-shot:de->fr, zero-shot:de->en) > 0.45"), RESULTS)
    assert mean.decisions[0].estimate == pytest.approx(0.40) and mean.verdict == "contradicted"


def test_seeds_are_resampled_too():
    """Two seeds whose French F1s are 0.40 and 0.60 against German's 0.50 and 0.52: the mean
    difference is small and the seeds disagree, so it is not established."""
    results = [
        result(("zero-shot", "de", "fr"), range(80), seed=0),
        result(("zero-shot", "de", "fr"), range(120), seed=1),
        result(("full", "all", "fr"), range(100), seed=0),
        result(("full", "all", "fr"), range(104), seed=1),
    ]
    verdict = judge(finding("full:all->fr > zero-shot:de->fr"), results)
    assert verdict.deciding.estimate == pytest.approx((0.50 + 0.52) / 2 - 0.50)
    assert verdict.verdict == "not established"


def test_missing_cells_or_counts_are_not_judged():
    verdict = judge(finding("full:all->fr > zero-shot:de->fr"), RESULTS[:3])
    assert verdict.verdict == "not judged" and "no results for full:all->fr" in verdict.line
    bare = [r if r.config != "all" else Result.from_dict(r.to_dict() | {"sentence_counts": None})
            for r in RESULTS]  # fmt: skip
    verdict = judge(finding("full:all->fr > zero-shot:de->fr"), bare)
    assert "no per-sentence counts for full:all->fr" in verdict.line


def test_a_verdict_survives_results_json():
    f = finding("crossover(few-shot, zero-shot:de->fr) between 50 and 100")
    again = Finding.from_dict(f.to_dict())
    assert again == f
    assert judge(again, RESULTS) == judge(f, RESULTS)


# --- the parser -----------------------------------------------------------------------------


def test_claims_parse_into_comparisons():
    (clause,) = parse_claim("multilingual:de+fr->fr - zero-shot:de->fr > 0.10")
    assert clause == Comparison(
        Sum(((1, CellRef("multilingual", "de+fr", "fr")), (-1, CellRef("zero-shot", "de", "fr")))),
        ">",
        Sum(((1, Number(0.10)),)),
    )
    (clause,) = parse_claim("min(full:all->*)>-0.5")
    assert clause.left.terms[0][1].function == "min" and clause.right.constant == -0.5


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ("zero-shot:de->xx > 0", "unknown cell 'zero-shot:de->xx': zero-shot:de is evaluated on "
                                 "de, fr, en"),
        ("zero-shot:it->de > 0", "unknown cell 'zero-shot:it->de': zero-shot trains on de"),
        ("masked:de->de > 0", "no strategy 'masked' (the study has: zero-shot, few-shot, full)"),
        ("median(full:all->*) > 0", "column 1: unknown function 'median'"),
        ("full:all->de >= 0.5", "column 14: '>=': a claim compares with < or >"),
        ("full:all->* > 0.5", "a row (->*) only inside mean(), min() or max()"),
        ("full:all->de > 0.5 or full:all->fr > 0.5", "column 20: expected 'and' or the end"),
        ("full:all->de >", "column 15: expected a cell, a number or mean/min/max(...), got the"),
        ("crossover(few-shot, zero-shot:de->fr) between 60 and 100", "60 is not a size of"),
        ("crossover(full, zero-shot:de->fr) between 50 and 100", "full is not trained at several"),
        ("crossover(few-shot, zero-shot:de->fr) between 100 and 50", "the first size must be"),
        ("zero-shot:de->de ? 1", "column 18: unexpected '?'"),
        ("", "an empty claim"),
    ],
)  # fmt: skip
def test_bad_claims_say_where_and_what(claim, message):
    with pytest.raises(ClaimError) as err:
        resolve(parse_claim(claim), CELLS)
    assert message in str(err.value)


_cells = st.sampled_from([CellRef(*c) for c in CELLS if c[2] != "*"])
_numbers = st.integers(0, 1000).map(lambda k: Number(k / 100))
_terms = st.one_of(
    _cells,
    _numbers,
    st.builds(
        lambda f, cells: Aggregate(f, tuple(cells)),
        st.sampled_from(["mean", "min", "max"]),
        st.lists(_cells, min_size=1, max_size=3),
    ),
)
_sums = st.lists(st.tuples(st.sampled_from([1, -1]), _terms), min_size=1, max_size=4).map(
    lambda terms: Sum(tuple(terms))
)


@given(st.lists(st.tuples(_sums, st.sampled_from("<>"), _sums), min_size=1, max_size=3))
def test_a_written_claim_parses_back_to_itself(clauses):
    text = " and ".join(f"{left} {op} {right}" for left, op, right in clauses)
    parsed = parse_claim(text)
    assert parsed == tuple(Comparison(left, op, right) for left, op, right in clauses)


# --- at study load --------------------------------------------------------------------------


def test_a_bad_claim_stops_the_study_at_load_in_one_line(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        'base = "smoke"\n\n'
        '[[findings]]\nname = "ok"\nsays = "s"\nclaim = "zero-shot:de->de > zero-shot:de->fr"\n\n'
        '[[findings]]\nname = "bad"\nsays = "s"\nclaim = "zero-shot:de->xx > 0"\n'
    )
    with pytest.raises(StudyError) as err:
        load_study(path)
    assert str(err.value) == (
        f"{path}: findings[1].claim: unknown cell 'zero-shot:de->xx': zero-shot:de is "
        "evaluated on de, fr, it, en"
    )
    assert "\n" not in str(err.value)


def test_a_study_on_a_base_has_its_own_findings_and_select_keeps_those_it_can_judge(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('base = "smoke"\n\n[strategies.zero-shot]\ntrain = ["de"]\neval = "all"\n')
    assert load_study(path).findings == ()
    smoke = load_study("smoke")
    assert [f.name for f in smoke.select(["zero-shot"]).findings] == ["zero-shot-drops-off-german"]
    assert load_study("report").findings, "the report study declares its findings"
