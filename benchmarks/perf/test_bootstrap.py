"""Speed of the F1 intervals on a PAN-X-sized test set (10,000 sentences), against scoring
the same tags once with seqeval (xner.results.metrics.entity_f1, what every evaluation does
anyway) in the same process: `sentence_counts` once, `bootstrap` with 1,000 resamples.

Intervals are on by default in every evaluation, so together they must cost less than the
scoring they are attached to: each under half of it. pytest-benchmark benchmarks (marker
`perf`, run with `pytest benchmarks/perf -m perf -k bootstrap -s`); a ratio on the same
machine in the same minute, not a wall time, so a busy machine does not fail them.
"""

from __future__ import annotations

import timeit

import pytest

from xner.data.synthetic import tag_pairs
from xner.results.intervals import bootstrap, sentence_counts
from xner.spec.labels import ENTITY_TYPES

pytestmark = pytest.mark.perf

SENTENCES = 10_000
RESAMPLES = 1_000
MOST = 0.5  # of seqeval's time, for each of the two


@pytest.fixture(scope="module")
def tags() -> tuple[list[list[str]], list[list[str]]]:
    return tag_pairs(SENTENCES)


@pytest.fixture(scope="module")
def seqeval_seconds(tags) -> float:
    """The baseline: the fastest of three seqeval scorings of the same tags."""
    # Imported here: seqeval loads scikit-learn (seconds), which collecting must not pay.
    from xner.results.metrics import entity_f1

    return min(timeit.repeat(lambda: entity_f1(*tags), number=1, repeat=3))


def against_seqeval(benchmark, name: str, baseline: float) -> float:
    if benchmark.disabled:
        pytest.skip("a speed benchmark: pytest-benchmark is disabled (--benchmark-disable, -n)")
    fastest = benchmark.stats.stats.min
    ratio = fastest / baseline
    benchmark.extra_info.update(seqeval_seconds=baseline, ratio=ratio)
    print(f"\n{name}: {fastest:.3f} s, seqeval's scoring {baseline:.3f} s: {ratio:.2f}x")
    return ratio


def test_sentence_counts_against_seqeval(benchmark, tags, seqeval_seconds):
    counts = benchmark(sentence_counts, *tags)
    assert counts.shape == (SENTENCES, len(ENTITY_TYPES), 3)
    name = f"sentence_counts, {SENTENCES:,} sentences"
    assert against_seqeval(benchmark, name, seqeval_seconds) < MOST


def test_bootstrap_against_seqeval(benchmark, tags, seqeval_seconds):
    counts = sentence_counts(*tags)
    intervals = benchmark(bootstrap, counts, RESAMPLES)
    assert intervals.micro.low <= intervals.micro.estimate <= intervals.micro.high
    name = f"bootstrap, {SENTENCES:,} sentences x {RESAMPLES:,} resamples"
    assert against_seqeval(benchmark, name, seqeval_seconds) < MOST
