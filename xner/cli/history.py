"""`xner history RUN... [--out DIR]`: saved runs (results.json files, run folders or a
history store) side by side, cell by cell, each step between neighbouring runs tested by a
paired bootstrap; history.md, history.json, history.csv, history-<strategy>.png and
history.html."""

from __future__ import annotations

import argparse

from xner.execution import flags
from xner.spec.recipe import BOOTSTRAP_RESAMPLES

# The options: (flag, argparse keywords), declared once as a table.
OPTIONS = (
    ("--out", {"default": "history", "help": "folder for the files (history/)"}),
    ("--by", {
        "action": "append", "metavar": "FIELD",
        "help": "order the runs by this run fact (a library such as transformers, commit, "
        "created, device, versions.torch, recipes.smoke.learning_rate); repeatable "
        "(default: transformers, then commit, then created)",
    }),
    ("--latest", {
        "metavar": "FIELD",
        "help": "of the runs that share a value of FIELD (e.g. transformers), keep only the "
        "newest: one column per release",
    }),
    ("--study", {
        "action": "append", "metavar": "NAME", "help": "only this study's cells; repeatable",
    }),
    ("--bootstrap", {
        "type": flags.at_least(1, "resamples"), "default": BOOTSTRAP_RESAMPLES, "metavar": "N",
        "help": f"resamples of each step's paired test (default {BOOTSTRAP_RESAMPLES})",
    }),
    ("--fail-on-fall", {
        "action": "store_true",
        "help": "exit with status 1 where a cell fell significantly into the last run of the "
        "order (the newest, with --by created): CI's check",
    }),
)  # fmt: skip


def add_parser(commands) -> None:
    """This subcommand and its options, on `xner`'s subparsers."""
    history = commands.add_parser(
        "history",
        help="saved runs side by side, cell by cell, each step between neighbours tested",
        description=__doc__,
    )
    history.add_argument(
        "runs", nargs="+", metavar="RUN",
        help="results.json files, run folders, or history stores (every subfolder's run)",
    )  # fmt: skip
    for flag, keywords in OPTIONS:
        history.add_argument(flag, **keywords)


def history(args: argparse.Namespace) -> int:
    from xner.reporting.history import (
        DEFAULT_ORDER,
        build_history,
        latest_per,
        load_runs,
        step_line,
        write_history,
    )

    runs = load_runs(args.runs, args.study or ())
    if args.latest:
        runs = latest_per(runs, args.latest)
    built = build_history(runs, tuple(args.by or DEFAULT_ORDER), args.bootstrap)
    written = write_history(built, args.out)
    flagged = built.flagged()
    for cell, step in flagged:
        print(f"STEP {step_line(built, cell, step)}")
    print(
        f"{len(built.runs)} run(s), {len(built.cells)} cell(s), "
        f"{sum(len(c.steps) for c in built.cells)} step(s): {len(flagged)} significant; "
        f"wrote {', '.join(p.name for p in written)} in {args.out}/"
    )
    falls = built.falls_into_last()
    if args.fail_on_fall and falls:
        for cell, step in falls:
            print(f"FALL {step_line(built, cell, step)}")
        print(f"xner history: {len(falls)} cell(s) fell significantly into {built.runs[-1].label}")
        return 1
    return 0
