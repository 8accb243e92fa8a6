"""`xner diff RUN_A RUN_B`: the test sentences whose predictions changed between two saved runs,
per cell both have, with the paired F1 difference (xner.reporting.diff)."""

from __future__ import annotations

import argparse
from pathlib import Path

from xner.execution import flags


def add_parser(commands) -> None:
    """This subcommand and its options, on `xner`'s subparsers."""
    diff = commands.add_parser(
        "diff",
        help="the test sentences whose predictions changed between two saved runs, worst first",
        description="Cells are matched by strategy, configuration, evaluation language and seed "
        "(not study); runs scored on different test sentences are refused.",
    )
    diff.add_argument("a", metavar="RUN_A", help="a results.json (or its folder): the baseline")
    diff.add_argument("b", metavar="RUN_B", help="a results.json (or its folder)")
    diff.add_argument(
        "--cell", metavar="CELL", help="only this cell: CONFIG->LANG or 'STRATEGY CONFIG->LANG'"
    )
    diff.add_argument(
        "--limit", type=flags.at_least(0, "sentences"), default=5, metavar="N",
        help="sentences shown per cell, worst first (default 5; the counts cover all)",
    )  # fmt: skip


def _results_json(path: str) -> Path:
    p = Path(path)
    return p / "results.json" if p.is_dir() else p


def diff(args: argparse.Namespace) -> int:
    from xner.reporting.diff import diff_runs, format_diff

    diffs = diff_runs(_results_json(args.a), _results_json(args.b), args.cell)
    print(format_diff(diffs, args.limit), end="")
    return 0
