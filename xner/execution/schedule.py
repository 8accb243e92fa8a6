"""Which training configuration runs where and when: a cost estimate per configuration,
longest first across concurrent workers, and deterministic cost-balanced shards.

Costs are estimated from the study (fractions, sizes, epochs) and the row counts its corpus
sources know without loading them (xner.data.corpus.corpus_rows), so pytest can order and
shard cases at collection time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from xner.data.corpus import corpus_rows, study_corpus
from xner.spec.identity import ConfigId
from xner.spec.strategies import TrainConfig
from xner.spec.study import Study

EVAL_WEIGHT = 1 / 3  # a forward pass costs about a third of a training step per sentence


def config_key(study: str, config: TrainConfig) -> str:
    """A configuration's name across processes: `smoke-few-shot-fr:200` (xner.spec.identity's)."""
    return ConfigId.of(study, config).name


def config_cost(config: TrainConfig, study: Study) -> float:
    """Sentence passes of one training and its evaluations, in training-step units, from the
    rows each language's corpus has, cut to its fraction."""
    fractions = study.fractions or {}

    def split_rows(split: str, langs: Iterable[str]) -> float:
        return sum(
            corpus_rows(study_corpus(study, lang)).get(split, 0) * fractions.get(lang, 1.0)
            for lang in langs
        )

    train = config.size if config.size is not None else split_rows("train", config.train_langs)
    validation = split_rows("validation", config.train_langs)
    test = split_rows("test", config.eval_langs)
    epochs = study.recipe.epochs
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
