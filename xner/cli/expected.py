"""`xner expected RUN.json`: a run's figures as an expected-values file."""

from __future__ import annotations

import argparse

from xner.errors import XnerError
from xner.execution import flags
from xner.spec.runtime import describe


def add_parser(commands) -> None:
    """This subcommand and its options, on `xner`'s subparsers."""
    expected = commands.add_parser(
        "expected", help="print a results.json as an expected-values TOML (re-measuring)"
    )
    expected.add_argument("results", help="a results.json written by xner")
    expected.add_argument(
        "--tolerance", type=flags.non_negative, default=0.002,
        help="how far each figure may move either way (default 0.002)",
    )  # fmt: skip
    expected.add_argument(
        "--match",
        action="append",
        metavar="PACKAGE=PREFIX",
        type=flags.package_prefix,
        help="print an [[environment]] variant used where the installed version of PACKAGE "
        "starts with PREFIX (e.g. transformers=4.46); repeatable",
    )


def print_expected(args: argparse.Namespace) -> int:
    """Deterministic figures as two-sided expectations, e.g. for benchmarks/expected/smoke.toml."""
    from xner.reporting.tables import aggregate
    from xner.results.records import load_results

    loaded = load_results(args.results)
    measured = aggregate(loaded.results)
    version_of = {r.strategy: r.strategy_version for r in loaded.results}
    versions = loaded.run.get("versions", {})
    runtime = describe(loaded.results[0].runtime) if loaded.results else "?"
    print(
        f"# Measured by xner {versions.get('xner', '?')} with transformers "
        f"{versions.get('transformers', '?')}, torch {versions.get('torch', '?')} on "
        f"{loaded.run.get('device', '?')} ({runtime});\n# regenerate with `xner expected "
        "results.json`."
    )
    prefix = ""
    if args.match:
        match = dict(args.match)
        name = ", ".join(f"{k} {v}" for k, v in match.items())
        inline = ", ".join(f'{k} = "{v}"' for k, v in match.items())
        print(f'\n[[environment]]\nname = "{name}"\nmatch = {{ {inline} }}')
        prefix = "environment."
    studies = sorted({cell.study for cell in measured})
    if len(studies) > 1:
        raise XnerError(
            f"{args.results} holds the studies {', '.join(map(repr, studies))}: an expected-"
            "values file is one study's; `xner merge` a run of each study on its own first"
        )
    for strategy in dict.fromkeys(cell.strategy for cell in measured):
        print(f"\n[{prefix}{strategy}]\nversion = {version_of[strategy]}\ntwo_sided = true")
        print(f"tolerance = {args.tolerance}\n[{prefix}{strategy}.cells]")
        for cell, m in measured.items():
            if cell.strategy == strategy:
                print(f'"{cell.key}" = {m.mean:.6f}')
    return 0
