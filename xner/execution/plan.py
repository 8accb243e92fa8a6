"""The plan of a run, made once for both fronts: which training configurations of which
studies run (strategies, seeds), what each costs, in which order (longest first) and which
fall in this run's shard; and, for pytest, the id of every case so that pytest-xdist groups
cases by the configuration they belong to, never by parsing an id's text. Plain: no torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from xner.execution.schedule import config_cost, in_shard, longest_first
from xner.spec.cases import case_id, study_cases
from xner.spec.identity import CaseId, ConfigId


@dataclass(frozen=True)
class Planned:
    """One training of the plan: a configuration of a study at a seed."""

    study: object  # xner.spec.study.Study
    config: object  # xner.spec.strategies.TrainConfig
    seed: int

    @property
    def id(self) -> ConfigId:
        return ConfigId.of(self.study.name, self.config, self.seed)


@dataclass(frozen=True)
class Plan:
    """The trainings of a run, longest first, of this shard only; `costs` by configuration
    name (every seed of one costs the same)."""

    trainings: tuple[Planned, ...]
    costs: Mapping[str, float]
    total: int  # configurations before the shard took its share
    all_costs: Mapping[str, float] = field(default_factory=dict)  # ... and their costs

    def cost(self, training: Planned) -> float:
        return self.costs[training.id.name]

    @property
    def names(self) -> set[str]:
        return {t.id.name for t in self.trainings}

    def get(self, config: ConfigId) -> Planned | None:
        """The training `config` names, if this plan has it (None: another shard's, or a
        strategy not asked for)."""
        return next((t for t in self.trainings if t.id == config), None)


def cost_of(study, config) -> float:
    return config_cost(config, study)


def make_plan(
    studies: Iterable, seeds: Iterable[int], shard=None, strategies=None, among=None
) -> Plan:
    """Every configuration of `studies` (xner.spec.study.Study; only `strategies` where
    given, only those named in `among` where given: the ones pytest collected) at every
    seed, longest first, ties by name; with `shard`, its share only."""
    seeds = tuple(seeds)
    configs = {}
    for study in studies:
        for name, strategy in study.strategies.items():
            if strategies and name not in strategies:
                continue
            for config in strategy.configs():
                name = ConfigId.of(study.name, config).name
                if among is None or name in among:
                    configs[name] = (study, config)
    costs = {name: cost_of(study, config) for name, (study, config) in configs.items()}
    mine = in_shard(costs, shard)
    trainings = tuple(
        Planned(*configs[name], seed)
        for name in longest_first(costs)
        if name in mine
        for seed in seeds
    )
    return Plan(trainings, {name: costs[name] for name in mine}, len(costs), costs)


def case_ids(studies: Iterable, seeds: Sequence[int]) -> dict[str, CaseId]:
    """pytest's parameter id of every case the benchmark module can have -> its CaseId
    (xner.spec.cases.case_id: in the catch-all test's form too)."""
    several = len(seeds) > 1
    return {
        case_id(case, named, several): case
        for study in studies
        for strategy in study.strategies
        for case in study_cases(study, strategy, seeds)
        for named in (False, True)
    }
