"""`xner merge RUN.json ... --out DIR` and `xner report RUN.json --out DIR`: a saved run's
(or several runs') tables, CSV and plots, rebuilt."""

from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    """This subcommand and its options, on `xner`'s subparsers."""
    for name, what in (
        ("merge", "combine saved runs (e.g. shards) into one: their tables, CSV and plots"),
        ("report", "rebuild a saved run's tables, CSV and plots (byte for byte)"),
    ):
        merge = commands.add_parser(name, help=what, description=what)
        merge.add_argument("runs", nargs="+", metavar="RUN.json", help="results.json files")
        merge.add_argument("--out", required=True, help="folder for the files")
        if name == "merge":
            merge.add_argument(
                "--partial", action="store_true",
                help="merge shards that do not cover their plan, with an INCOMPLETE banner "
                "naming what is missing (default: refuse them)",
            )  # fmt: skip


def merge(args: argparse.Namespace) -> int:
    from pathlib import Path

    from xner.reporting.findings import findings_of, findings_section, verdicts
    from xner.reporting.merge import merge_runs
    from xner.reporting.output import write_run
    from xner.reporting.tables import tables
    from xner.results.records import load_results

    if args.command == "report" and len(args.runs) == 1:
        merged = load_results(args.runs[0])  # one saved run, any, as it was
    else:
        merged = merge_runs(args.runs, partial=getattr(args, "partial", False))
    findings = findings_of(merged.findings)  # judged again, from the merged records
    # The predictions files travel from each run's folder (and, by its cache, from there).
    folders = [Path(run).parent for run in args.runs]
    write_run(
        args.out, merged.results, merged.run, merged.expected, findings=findings,
        predictions_from=[*folders, *(f / "cache" for f in folders)],
    )  # fmt: skip
    print(tables(merged.results, fmt="simple"))
    section = findings_section(verdicts(findings, merged.results), fmt="simple")
    if section:
        print(section)
    incomplete = merged.run.get("incomplete")
    if incomplete:
        print(incomplete["line"])
    shards = merged.run.get("shards")
    whole = f" (whole: {len(shards)} shard(s))" if shards and merged.run.get("whole") else ""
    print(f"{len(args.runs)} run(s), {len(merged.results)} result(s){whole}; wrote {args.out}/")
    return 0
