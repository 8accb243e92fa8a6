"""Benchmark cases: one per (study, training configuration, seed, evaluation language), each a
xner.spec.identity.CaseId, the one type that names a case everywhere (results, cache,
scheduling, expected figures). Plain data: no torch, so that collecting the benchmarks never
loads it."""

from __future__ import annotations

from collections.abc import Sequence

from xner.spec.identity import CaseId


def study_cases(study, strategy: str, seeds: Sequence[int] = (0,)) -> list[CaseId]:
    """Every case of one strategy of `study` (a xner.spec.study.Study) at each of `seeds`, in
    the study's order (seeds innermost)."""
    return [
        CaseId(study.name, strategy, config.label, seed, lang)
        for config in study.strategies[strategy].configs()
        for lang in config.eval_langs
        for seed in seeds
    ]


def case_id(case: CaseId, named_by_strategy: bool = False, several_seeds: bool = False) -> str:
    """The case's pytest id: `smoke-de+fr->it`; in the catch-all test, which runs several
    strategies, `smoke-multilingual-de+fr->it`; `-seed1` after it where several seeds run."""
    strategy = f"{case.strategy}-" if named_by_strategy else ""
    seed = f"-seed{case.seed}" if several_seeds else ""
    return f"{case.study}-{strategy}{case.cell.key}{seed}"
