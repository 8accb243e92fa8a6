"""`xner ls`: the built-in studies, each with its description, the pytest marker that selects
its cases, its strategies and how many configurations and cases each has."""

from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    commands.add_parser("ls", help="list the built-in studies, their strategies and cases")


def ls(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from xner.spec.cases import study_cases
    from xner.spec.study import built_in_studies, load_study

    for name in built_in_studies():
        study = load_study(name)
        mark = f"-m {study.mark}" if study.mark else "no marker"
        rows = [
            (strategy, len(study.strategies[strategy].configs()),
             len(study_cases(study, strategy)), study.strategies[strategy].version)
            for strategy in study.strategies
        ]  # fmt: skip
        total = sum(row[2] for row in rows)
        print(f"{name} ({mark}; {total} cases; model {study.model}, data {study.data}): "
              f"{study.description}")  # fmt: skip
        print(tabulate(rows, headers=("strategy", "configurations", "cases", "version")))
        print()
    return 0
