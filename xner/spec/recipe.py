"""The fine-tuning recipe and the names of the models xner builds itself. Plain data: no torch,
so that studies and tables can name them without loading it."""

from __future__ import annotations

from dataclasses import dataclass, fields

DEFAULT_MODEL = "xlm-roberta-base"  # the report's model, from the hub
TINY = "tiny"  # a small XLM-R built and trained from scratch on the CPU (xner.training.tiny)
# The tiny model at the width the smoke study had before its version 3: the baseline of the
# smoke suite's speed benchmark (benchmarks/perf/test_speed.py).
TINY_128 = "tiny-128"
TINY_WIDTHS = {TINY: 32, TINY_128: 128}
XLMR_BASE_RANDOM = "xlmr-base-random"  # XLM-R base's shape, random weights (xner.training.realsize)
BUILT_IN_MODELS = (*TINY_WIDTHS, XLMR_BASE_RANDOM)
# Resamples of each F1's bootstrap interval by default (--xner-bootstrap, --bootstrap): a 95%
# percentile interval is stable to ~0.002. Here, not in xner.results.intervals, so that the pytest
# plugin and the CLI can name it without loading numpy and seqeval.
BOOTSTRAP_RESAMPLES = 1000


@dataclass(frozen=True)
class Recipe:
    """REPORT.md's hyper-parameters; the defaults are the report's."""

    learning_rate: float = 5e-5
    epochs: int = 3
    batch_size: int = 16
    weight_decay: float = 0.05
    metric_mode: str = "default"  # seqeval's conlleval-compatible scoring, as the report


RECIPE_KEYS = tuple(f.name for f in fields(Recipe))
