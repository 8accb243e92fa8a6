"""`xner matrix`: the transfer matrix, one training per source language and every target
evaluated, written as a study file and run."""

from __future__ import annotations

import argparse

from xner.cli.run import _run_options, _writable_out, run_study


def add_parser(commands) -> None:
    from xner.spec.study import built_in_studies

    matrix = commands.add_parser(
        "matrix", help="the transfer matrix: one training per source, every target evaluated"
    )
    matrix.add_argument("--train", required=True, metavar="L1,L2,...", help="source languages")
    matrix.add_argument(
        "--eval", default="all", metavar="L1,L2,...|all",
        help="target languages, or all of the data source's (default)",
    )  # fmt: skip
    matrix.add_argument(
        "--study", default="report", metavar="STUDY",
        help="the study whose model, data, fractions, recipe and runtime the matrix uses "
        f"({', '.join(built_in_studies())} or a file; default report)",
    )  # fmt: skip
    _run_options(matrix)


def matrix(args: argparse.Namespace) -> int:
    """Written as a study file in the results folder (the run's own record of what it ran),
    then run like any other."""
    from xner.spec.study import check_matrix, load_study, matrix_file

    evals = "all" if args.eval == "all" else args.eval.split(",")
    check_matrix(args.study, args.train.split(","), evals, args.data)
    out = _writable_out(args)
    path = matrix_file(out / "matrix.toml", args.study, args.train.split(","), evals)
    return run_study(load_study(path, args.data), args)
