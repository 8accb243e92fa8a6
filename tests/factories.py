"""The one way the tests build a Result record by hand: `make_result(**fields)`.

Every field has a plausible default (a German zero-shot configuration scored on French, the
tiny model on synthetic data); a test names only the fields it is about. Figures follow `f1`
unless given: precision and recall equal to it, `per_type` {"PER": f1}. The pytest-plugin
tests copy this file into their scratch projects (tests/test_plugin.py), so it imports only
xner.
"""

from __future__ import annotations

import copy

from xner.results.records import Result

DEFAULTS = {
    "strategy": "zero-shot", "train_langs": ["de"], "train_size": 100, "eval_lang": "fr",
    "seed": 0, "n_test": 10, "model": "tiny", "data_source": "synthetic",
    "train_seconds": 1.0, "eval_seconds": 0.1, "versions": {"xner": "1"}, "device": "cpu",
    "config": "de", "study": "smoke", "runtime": {"dtype": "fp32"},
}  # fmt: skip


def make_result(f1: float = 0.5, **fields) -> Result:
    """A Result of `DEFAULTS` with `fields` (any Result field) in their place."""
    figures = {"precision": f1, "recall": f1, "per_type": {"PER": f1}}
    return Result(**(copy.deepcopy(DEFAULTS) | figures | fields | {"f1": f1}))
