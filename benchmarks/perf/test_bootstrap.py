"""Speed of the F1 intervals on a PAN-X-sized test set (10,000 sentences): `sentence_counts`
once, `bootstrap` with 1,000 resamples. Each must stay under a second on two cores, so that
intervals can be on by default in every evaluation.

Not marked `perf`: they take seconds, and run in the normal test command. Under pytest-xdist
(or --benchmark-disable) pytest-benchmark runs the function once without statistics; then the
best of three calls timed here stands in for the mean (the best, because the other worker
shares the two cores).
"""

from __future__ import annotations

import time

import pytest

from xner.data.synthetic import tag_pairs
from xner.results.intervals import bootstrap, sentence_counts
from xner.spec.labels import ENTITY_TYPES

SENTENCES = 10_000
RESAMPLES = 1_000
LIMIT_S = 1.0


@pytest.fixture(scope="module")
def tags() -> tuple[list[list[str]], list[list[str]]]:
    return tag_pairs(SENTENCES)


def mean_seconds(benchmark, function, *args) -> float:
    """Benchmark `function(*args)`: its mean time, or with benchmarks off the best of three."""
    if not benchmark.disabled:
        benchmark(function, *args)
        return benchmark.stats.stats.mean
    start = time.perf_counter()
    benchmark(function, *args)  # disabled: calls it once, and may be used only once
    times = [time.perf_counter() - start]
    for _ in range(2):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def test_sentence_counts_speed(benchmark, tags):
    mean = mean_seconds(benchmark, sentence_counts, *tags)
    print(f"\nsentence_counts, {SENTENCES:,} sentences: {mean:.3f} s")
    assert mean < LIMIT_S


def test_bootstrap_speed(benchmark, tags):
    counts = sentence_counts(*tags)
    assert counts.shape == (SENTENCES, len(ENTITY_TYPES), 3)
    mean = mean_seconds(benchmark, bootstrap, counts, RESAMPLES)
    print(f"\nbootstrap, {SENTENCES:,} sentences x {RESAMPLES:,} resamples: {mean:.3f} s")
    assert mean < LIMIT_S
