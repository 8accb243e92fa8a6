"""Studies as benchmark cases: one per (training configuration, evaluation language) of each
selected study (`--xner-study`; by default the built-in `report` and `smoke`, selected by their
markers: `-m gpu` is REPORT.md's study, `-m smoke` the same on a CPU)."""

from pathlib import Path

import pytest

EXPECTED_DIR = Path(__file__).parent / "expected"


def check(case, xner_bench) -> None:
    expectation = xner_bench.expectation(case, EXPECTED_DIR)
    result = xner_bench.run(case)
    xner_bench.check(case, result, expectation)


@pytest.mark.xner_strategy("zero-shot")
def test_zero_shot(case, xner_bench):
    check(case, xner_bench)


@pytest.mark.xner_strategy("few-shot")
def test_few_shot(case, xner_bench):
    check(case, xner_bench)


@pytest.mark.xner_strategy("multilingual")
def test_multilingual(case, xner_bench):
    check(case, xner_bench)


@pytest.mark.xner_strategy("full")
def test_full(case, xner_bench):
    check(case, xner_bench)


@pytest.mark.xner_strategy()  # a study's other strategies (a transfer matrix, ...)
def test_strategy(case, xner_bench):
    check(case, xner_bench)
