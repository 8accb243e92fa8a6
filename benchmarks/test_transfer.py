"""The study of REPORT.md as benchmark cases: one per (training configuration, evaluation
language) and profile. `-m gpu` is the real study, `-m smoke` the CPU profile."""

from pathlib import Path

import pytest

from xner.bench import cases, load_expected
from xner.results import versions

EXPECTED_DIR = Path(__file__).parent / "expected"


@pytest.fixture(scope="session")
def expected():
    """Expected figures per profile; smoke's per installed release where they differ."""
    installed = versions()
    return {
        profile: load_expected(EXPECTED_DIR / f"{profile}.toml", installed)
        for profile in ("report", "smoke")
    }


def check(case, xner_bench, expected) -> None:
    expectation = expected[case.profile].for_case(case)
    result = xner_bench.run(case)
    xner_bench.check(case, result, expectation)


@pytest.mark.parametrize("case", cases("zero-shot"))
def test_zero_shot(case, xner_bench, expected):
    check(case, xner_bench, expected)


@pytest.mark.parametrize("case", cases("few-shot"))
def test_few_shot(case, xner_bench, expected):
    check(case, xner_bench, expected)


@pytest.mark.parametrize("case", cases("multilingual"))
def test_multilingual(case, xner_bench, expected):
    check(case, xner_bench, expected)


@pytest.mark.parametrize("case", cases("full"))
def test_full(case, xner_bench, expected):
    check(case, xner_bench, expected)
