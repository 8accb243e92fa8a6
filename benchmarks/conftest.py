"""The speed benchmarks (marker `perf`, benchmarks/perf/test_speed.py, about 15 minutes) run
only when asked for: a `-m` expression that names `perf` (`pytest benchmarks/perf -m perf`).
Anything else, `pytest benchmarks` and `pytest benchmarks --xner-study FILE` included, skips
them and says how to run them."""

import re

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if re.search(r"\bperf\b", config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="speed benchmark: run it with -m perf")
    for item in items:
        if item.get_closest_marker("perf"):
            item.add_marker(skip)
