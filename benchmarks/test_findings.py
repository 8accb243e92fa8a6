"""A study's findings as benchmark cases: one per finding of each selected study
(`test_finding[smoke-few-shot-crossover]`), run after the cases whose cells it names, passing
only when it holds (docs/findings.md)."""

import pytest


@pytest.mark.xner_findings
def test_finding(finding, xner_findings):
    xner_findings.check(finding)
