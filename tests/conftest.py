"""Shared fixtures and the hypothesis profile of the test suite (the settings it shares with
benchmarks/, the offline hub among them, are the root conftest.py's)."""

from __future__ import annotations

import os

import datasets
import pytest
from hypothesis import HealthCheck, settings

# "ci" keeps every property test bounded: the whole tests/ folder must stay well under three
# minutes on two cores. No example database, so a run writes nothing into the checkout; a
# failure prints the blob that reproduces it (@reproduce_failure).
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# A longer run for hunting bugs locally: HYPOTHESIS_PROFILE=thorough pytest tests
settings.register_profile(
    "thorough",
    parent=settings.get_profile("ci"),
    max_examples=2000,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

datasets.disable_progress_bars()


@pytest.fixture(scope="session")
def tokenizer():
    """The offline XLM-R-style tokenizer (trained once per session, about 1.5 s)."""
    from xner.training.tiny import tiny_tokenizer

    return tiny_tokenizer()
