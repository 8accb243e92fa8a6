"""`xner tolerances RUN.json`: expected-value tolerances from a run of several seeds."""

from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    """This subcommand and its options, on `xner`'s subparsers."""
    tolerances = commands.add_parser(
        "tolerances",
        help="suggest expected-value tolerances from a run of several seeds: per cell the "
        "larger of 3 seed standard deviations and the bootstrap half-width",
    )
    tolerances.add_argument("results", help="a results.json of several seeds (--seed ...)")


def print_tolerances(args: argparse.Namespace) -> int:
    """Per cell: the seeds' spread, the widest bootstrap half-width and the tolerance both
    allow, as lines to paste into an expected-values file's cells."""
    import statistics

    from xner.reporting.tables import aggregate, cell_of
    from xner.results.intervals import suggest_tolerance
    from xner.results.records import load_results

    results = load_results(args.results).results
    half = {}
    for r in results:
        if r.interval is not None:
            micro = r.interval["micro"]
            width = (micro["high"] - micro["low"]) / 2
            half[cell_of(r)] = max(half.get(cell_of(r), 0.0), width)
    by_cell = {}
    for r in results:
        by_cell.setdefault(cell_of(r), []).append(r.f1)
    print(f"# from {args.results}: tolerance = max(3 x seed std, bootstrap half-width)")
    several = len({cell.study for cell in by_cell}) > 1
    heading = None
    for cell, m in aggregate(results).items():
        if (cell.study, cell.strategy) != heading:
            # With several studies, each table says whose figures these are.
            study = f"# study {cell.study}\n" if several else ""
            print(f"\n{study}[{cell.strategy}.cells]")
            heading = (cell.study, cell.strategy)
        f1s = by_cell[cell]
        std = statistics.stdev(f1s) if len(f1s) > 1 else 0.0
        width = half.get(cell, 0.0)
        print(
            f'"{cell.key}" = {{ f1 = {m.mean:.4f}, tolerance = '
            f"{suggest_tolerance(f1s, width):.3f} }}  # {len(f1s)} seed(s), std {std:.4f}, "
            f"half-width {width:.4f}"
        )
    return 0
