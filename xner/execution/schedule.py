"""Which training configuration runs where and when: a cost estimate per configuration,
longest first across concurrent workers, and deterministic cost-balanced shards.

Costs are estimated from the study alone (fractions, sizes, epochs), never by loading data,
so pytest can order and shard cases at collection time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from xner.spec.identity import ConfigId
from xner.spec.languages import SYNTHETIC_SIZES
from xner.spec.strategies import TrainConfig

# Rows per split before the study's fractions: XTREME's PAN-X (20,000/10,000/10,000 in
# each of the study's languages) and xner's synthetic PAN-X (xner.data.synthetic.DEFAULT_SIZES).
PANX_ROWS = {"train": 20_000, "validation": 10_000, "test": 10_000}
SYNTHETIC_ROWS = SYNTHETIC_SIZES
EVAL_WEIGHT = 1 / 3  # a forward pass costs about a third of a training step per sentence


def config_key(study: str, config: TrainConfig) -> str:
    """A configuration's name across processes: `smoke-few-shot-fr:200` (xner.spec.identity's)."""
    return ConfigId.of(study, config).name


def nominal_rows(data: str) -> dict[str, int]:
    return SYNTHETIC_ROWS if data == "synthetic" else PANX_ROWS


def config_cost(
    config: TrainConfig, fractions: dict[str, float] | None, epochs: int, data: str
) -> float:
    """Sentence passes of one training and its evaluations, in training-step units."""
    rows = nominal_rows(data)

    def split_rows(split: str, langs: Iterable[str]) -> float:
        return sum(rows[split] * (fractions or {}).get(lang, 1.0) for lang in langs)

    train = config.size if config.size is not None else split_rows("train", config.train_langs)
    validation = split_rows("validation", config.train_langs)
    test = split_rows("test", config.eval_langs)
    return epochs * (train + EVAL_WEIGHT * validation) + EVAL_WEIGHT * test


def longest_first(costs: dict[str, float]) -> list[str]:
    """Keys by decreasing cost, ties by name: the order in which to hand out work."""
    return sorted(costs, key=lambda key: (-costs[key], key))


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise ValueError(f"a shard is I/N, for example 2/3; got {text!r}")
        index, count = int(match[1]), int(match[2])
        if not 1 <= index <= count:
            raise ValueError(f"shard {text!r}: I must be between 1 and N")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def assign_shards(costs: dict[str, float], count: int) -> list[list[str]]:
    """Split keys into `count` shards of nearly equal total cost.

    Greedy longest-processing-time: each key, longest first, goes to the shard with the least
    cost so far (the lowest index on a tie). Deterministic: the same keys and costs give the
    same shards on every machine.
    """
    shards: list[list[str]] = [[] for _ in range(count)]
    totals = [0.0] * count
    for key in longest_first(costs):
        target = min(range(count), key=lambda i: (totals[i], i))
        shards[target].append(key)
        totals[target] += costs[key]
    return shards


def in_shard(costs: dict[str, float], shard: Shard | None) -> set[str]:
    """The keys shard `shard` runs (all of them when `shard` is None)."""
    if shard is None:
        return set(costs)
    return set(assign_shards(costs, shard.count)[shard.index - 1])
