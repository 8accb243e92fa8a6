"""`xner run ...`: the study outside pytest, printing the report's tables and writing JSON."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from xner.hub import HubUnreachableError

STRATEGY_CHOICES = ("zero-shot", "few-shot", "multilingual", "full", "all")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xner", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="fine-tune and score one strategy or all of them")
    run.add_argument("strategy", choices=STRATEGY_CHOICES)
    run.add_argument("--profile", default="report", choices=("report", "smoke"))
    run.add_argument("--model", help="hub name or save_pretrained folder (default: profile's)")
    run.add_argument("--data", help="'hub', 'synthetic' or a PAN-X folder (default: profile's)")
    run.add_argument("--seed", type=int, action="append", help="repeat for several seeds")
    run.add_argument("--out", default="results", help="results folder (default: results/)")
    run.add_argument("--force", action="store_true", help="retrain cached configurations")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    expected = commands.add_parser(
        "expected", help="print a results.json as an expected-values TOML (re-measuring)"
    )
    expected.add_argument("results", help="a results.json written by xner")
    expected.add_argument("--tolerance", type=float, default=0.002)
    expected.add_argument(
        "--match",
        action="append",
        metavar="PACKAGE=PREFIX",
        help="print an [[environment]] variant used where the installed version of PACKAGE "
        "starts with PREFIX (e.g. transformers=4.46); repeatable",
    )
    return parser


def print_expected(args: argparse.Namespace) -> int:
    """Deterministic figures as two-sided expectations, e.g. for benchmarks/expected/smoke.toml."""
    from xner.report import aggregate
    from xner.results import load_results

    loaded = load_results(args.results)
    measured = aggregate(loaded.results)
    version_of = {r.strategy: r.strategy_version for r in loaded.results}
    versions = loaded.run.get("versions", {})
    print(
        f"# Measured by xner {versions.get('xner', '?')} with transformers "
        f"{versions.get('transformers', '?')}, torch {versions.get('torch', '?')} on "
        f"{loaded.run.get('device', '?')}; regenerate with `xner expected results.json`."
    )
    prefix = ""
    if args.match:
        match = dict(item.split("=", 1) for item in args.match)
        name = ", ".join(f"{k} {v}" for k, v in match.items())
        inline = ", ".join(f'{k} = "{v}"' for k, v in match.items())
        print(f'\n[[environment]]\nname = "{name}"\nmatch = {{ {inline} }}')
        prefix = "environment."
    for strategy in dict.fromkeys(cell[0] for cell in measured):
        print(f"\n[{prefix}{strategy}]\nversion = {version_of[strategy]}\ntwo_sided = true")
        print(f"tolerance = {args.tolerance}\n[{prefix}{strategy}.cells]")
        for (s, label, lang), m in measured.items():
            if s == strategy:
                print(f'"{label}->{lang}" = {m.mean:.6f}')
    return 0


def run(args: argparse.Namespace) -> int:
    import datasets

    from xner.profiles import get_profile
    from xner.report import plot_few_shot, plot_transfer, tables
    from xner.results import run_facts, save_results, write_atomic
    from xner.study import Study

    datasets.disable_progress_bars()
    profile = get_profile(args.profile)
    out = Path(args.out)
    study = Study(
        profile, args.model, args.data, cache_dir=out / "cache", force=args.force,
        progress=not args.no_progress,
    )  # fmt: skip
    strategies = profile.strategies()
    names = list(strategies) if args.strategy == "all" else [args.strategy]
    seeds = args.seed or [0]
    results = []
    for name in names:
        for config in strategies[name].configs():
            for seed in seeds:
                results.extend(study.run(config, seed))
    run_info = run_facts() | {"profile": profile.name, "model": study.model, "data": study.data}
    save_results(out / "results.json", results, run_info)
    text = tables(results, fmt="simple")
    write_atomic(out / "tables.md", tables(results, fmt="github"))
    plot_few_shot(results, out / "few_shot.png")
    plot_transfer(results, out / "transfer.png")
    print(text)
    cached = len({r.config for r in results}) - len(study.trained)
    print(f"trained {len(study.trained)} configuration(s), {cached} from cache; wrote {out}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return run(args) if args.command == "run" else print_expected(args)
    except (HubUnreachableError, FileNotFoundError, ValueError, KeyError) as err:
        # Errors the user can act on: one line, not a traceback.
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"xner: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
