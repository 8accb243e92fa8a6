"""The identity of what xner measures, spelled once. Plain data: no torch.

A training configuration is `ConfigId(study, strategy, config, seed)`; a case of it, one
evaluation language, is `CaseId(study, strategy, config, seed, lang)`; a cell of the tables
is a case over its seeds, `Cell(study, strategy, config, lang)`. Every consumer keys by these:
cache file names, scheduling and shards, aggregation and tables, merge, compare and expected
figures, so that two studies with the same strategy names never share a cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple


class Cell(NamedTuple):
    """One cell of a study's tables: a configuration on one language, over its seeds."""

    study: str
    strategy: str
    config: str  # the configuration's label: de, fr:1000, de+fr, all
    lang: str

    @property
    def key(self) -> str:
        """The cell's name inside its strategy's table of an expected-values file: `de->fr`."""
        return f"{self.config}->{self.lang}"

    @property
    def local(self) -> tuple[str, str, str]:
        """(strategy, config, lang): the cell within its study's tables."""
        return (self.strategy, self.config, self.lang)

    @classmethod
    def of(cls, result) -> Cell:
        """The cell of a xner.results.records.Result."""
        return cls(result.study, result.strategy, result.config, result.eval_lang)

    @classmethod
    def of_record(cls, record: dict, study: str = "") -> Cell:
        """The cell of an expected-figure record of results.json (`study` where it has none:
        files from before records named their study)."""
        return cls(record.get("study", study), record["strategy"], record["config"],
                   record["eval_lang"])  # fmt: skip


@dataclass(frozen=True, order=True)
class ConfigId:
    """One training: a configuration of a study at one seed."""

    study: str
    strategy: str
    config: str
    seed: int = 0

    @classmethod
    def of(cls, study: str, config, seed: int = 0) -> ConfigId:
        """The identity of `config` (a xner.spec.strategies.TrainConfig) of `study`."""
        return cls(study, config.strategy, config.label, seed)

    @property
    def name(self) -> str:
        """The configuration's name across processes, seed aside: `smoke-few-shot-fr:200`
        (what scheduling and shards key by: every seed of it costs the same)."""
        return f"{self.study}-{self.strategy}-{self.config}"

    @property
    def file_stem(self) -> str:
        """A file name for it: `smoke-few-shot-fr-200-seed0` (no `:`, `+` or `/`)."""
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.name.replace(":", "-").replace("+", "_"))
        return f"{safe}-seed{self.seed}"

    def case(self, lang: str) -> CaseId:
        return CaseId(self.study, self.strategy, self.config, self.seed, lang)


@dataclass(frozen=True, order=True)
class CaseId:
    """One measured case: a configuration of a study at one seed, on one language."""

    study: str
    strategy: str
    config: str
    seed: int
    lang: str

    @classmethod
    def of(cls, result) -> CaseId:
        """The identity of a xner.results.records.Result."""
        return cls(result.study, result.strategy, result.config, result.seed, result.eval_lang)

    @property
    def cell(self) -> Cell:
        return Cell(self.study, self.strategy, self.config, self.lang)

    @property
    def configuration(self) -> ConfigId:
        return ConfigId(self.study, self.strategy, self.config, self.seed)

    def __str__(self) -> str:
        return f"{self.study} {self.strategy} {self.config}->{self.lang} seed {self.seed}"
