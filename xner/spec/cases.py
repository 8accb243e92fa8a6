"""Benchmark cases: one per (study, training configuration, evaluation language). Plain data:
no torch, so that collecting the benchmarks never loads it."""

from __future__ import annotations

from dataclasses import dataclass

from xner.spec.identity import Cell, ConfigId
from xner.spec.strategies import TrainConfig


@dataclass(frozen=True)
class BenchCase:
    """One benchmark case; its id reads `smoke-de+fr->it`."""

    study: str
    config: TrainConfig
    lang: str
    named_by_strategy: bool = False  # a case of the catch-all test: its id names its strategy

    @property
    def cell(self) -> Cell:
        """The case's cell of the tables (xner.spec.identity)."""
        return Cell(self.study, self.config.strategy, self.config.label, self.lang)

    def configuration(self, seed: int) -> ConfigId:
        """The training this case is scored by, at `seed`."""
        return ConfigId.of(self.study, self.config, seed)

    @property
    def key(self) -> str:
        """The case's name inside its strategy's table in an expected-values file."""
        return self.cell.key

    def __str__(self) -> str:
        if self.named_by_strategy:
            return f"{self.study}-{self.config.strategy}-{self.key}"
        return f"{self.study}-{self.key}"


def study_cases(study, strategy: str, named_by_strategy: bool = False) -> list[BenchCase]:
    """Every case of one strategy of `study` (a xner.spec.study.Study), in the study's order."""
    return [
        BenchCase(study.name, config, lang, named_by_strategy)
        for config in study.strategies[strategy].configs()
        for lang in config.eval_langs
    ]
