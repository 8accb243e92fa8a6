"""`xner compare RUN_A.json RUN_B.json`: two saved runs cell by cell, with paired-bootstrap
intervals of each difference."""

from __future__ import annotations

import argparse

from xner.errors import XnerError
from xner.execution import flags
from xner.spec.recipe import BOOTSTRAP_RESAMPLES


def add_parser(commands) -> None:
    """This subcommand and its options, on `xner`'s subparsers."""
    compare = commands.add_parser(
        "compare",
        help="two saved runs cell by cell: the F1 difference, its paired-bootstrap interval "
        "and whether it is significant",
    )
    compare.add_argument("before", metavar="RUN_A.json", help="the baseline run")
    compare.add_argument("after", metavar="RUN_B.json", help="the run compared with it")
    compare.add_argument(
        "--bootstrap",
        type=flags.at_least(1, "resamples"),
        default=BOOTSTRAP_RESAMPLES,
        metavar="N",
        help=f"resamples (default {BOOTSTRAP_RESAMPLES})",
    )


def compare(args: argparse.Namespace) -> int:
    from xner.reporting.compare import compare_runs, comparison_table
    from xner.results.records import load_results

    before, after = load_results(args.before), load_results(args.after)
    comparisons = compare_runs(before.results, after.results, args.bootstrap)
    if not comparisons:
        raise XnerError(f"{args.before} and {args.after} share no cell")
    print(comparison_table(comparisons))
    paired = sum(c.difference is not None for c in comparisons)
    significant = sum(c.difference is not None and c.difference.significant for c in comparisons)
    print(
        f"{len(comparisons)} cell(s), {paired} compared by paired bootstrap ({args.bootstrap} "
        f"resamples; * = the 95% interval of B - A excludes 0): {significant} significant"
    )
    return 0
