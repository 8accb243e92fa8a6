"""The fine-tuning recipe and the names of the models xner builds itself. Plain data: no torch,
so that studies and tables can name them without loading it."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from xner.errors import XnerError

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

# seqeval's scoring modes as xner.metrics.entity_f1 takes them: the one list of them, kept
# here so that studies are checked without loading seqeval.
METRIC_MODES = ("default", "strict")


class SettingError(XnerError, ValueError):
    """A recipe or runtime setting out of range: `key` is the field, `problem` says what
    would be accepted."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem


@dataclass(frozen=True)
class Recipe:
    """REPORT.md's hyper-parameters; the defaults are the report's."""

    learning_rate: float = 5e-5
    epochs: int = 3
    batch_size: int = 16
    weight_decay: float = 0.05
    metric_mode: str = "default"  # seqeval's conlleval-compatible scoring, as the report

    def __post_init__(self) -> None:
        if not _positive(self.learning_rate):
            raise SettingError("learning_rate", f"a positive number, got {self.learning_rate!r}")
        for key in ("epochs", "batch_size"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SettingError(key, f"a whole number of at least 1, got {value!r}")
        if not _number(self.weight_decay) or not self.weight_decay >= 0:
            raise SettingError("weight_decay", f"0 or more, got {self.weight_decay!r}")
        if self.metric_mode not in METRIC_MODES:
            raise SettingError(
                "metric_mode",
                f"one of {', '.join(map(repr, METRIC_MODES))}, got {self.metric_mode!r}",
            )


RECIPE_KEYS = tuple(f.name for f in fields(Recipe))


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(value) -> bool:
    return _number(value) and value > 0
