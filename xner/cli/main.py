"""xner: cross-lingual NER transfer studies outside pytest. `xner run` fine-tunes and scores a
study, `xner matrix` a transfer matrix; `report`, `merge`, `compare`, `tolerances` and
`expected` work on saved runs (results.json). `xner COMMAND --help` for each."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from dataclasses import asdict

from xner.data.hub import HubUnreachableError
from xner.execution import flags
from xner.execution.jobs import WorkerError
from xner.spec.recipe import BOOTSTRAP_RESAMPLES
from xner.spec.runtime import PRECISIONS, describe


def _run_options(command: argparse.ArgumentParser) -> None:
    """Options shared by `run` and `matrix`: what to override and how to execute."""
    command.add_argument("--model", help="hub name or save_pretrained folder (default: study's)")
    command.add_argument(
        "--data", help="'hub', 'wikiann', 'synthetic' or a PAN-X folder (default: the study's)"
    )
    command.add_argument(
        "--seed", type=flags.seed, action="append", help="repeat for several seeds (0 to 2**32-1)"
    )
    command.add_argument("--out", default="results", help="results folder (default: results/)")
    command.add_argument("--force", action="store_true", help="retrain cached configurations")
    command.add_argument(
        "--cache", metavar="DIR",
        help="folder of the training cache, shared with pytest's --xner-cache (default: OUT/cache)",
    )  # fmt: skip
    command.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    command.add_argument(
        "--jobs", type=flags.at_least(1, "jobs"), default=1, metavar="N",
        help="train N configurations at once, longest first, each in its own process with "
        "its share of the CPU cores and, on a GPU machine, worker k on GPU k mod G (default 1)",
    )  # fmt: skip
    command.add_argument(
        "--shard", type=flags.shard, metavar="I/N",
        help="run only shard I of N (a deterministic, cost-balanced share of the "
        "configurations); combine the shards' results.json with `xner merge`",
    )  # fmt: skip
    command.add_argument(
        "--precision", choices=PRECISIONS,
        help="auto (bf16 mixed precision on GPUs that have it, fp32 on CPU), or force one",
    )  # fmt: skip
    command.add_argument(
        "--bootstrap", type=flags.at_least(0, "resamples"), default=BOOTSTRAP_RESAMPLES,
        metavar="N",
        help=f"bootstrap resamples of each F1's 95%% interval (default {BOOTSTRAP_RESAMPLES}; "
        "0: none)",
    )  # fmt: skip
    command.add_argument(
        "--compile", action="store_true", default=None,
        help="torch.compile the model (lengths padded to multiples of 64 on a GPU)",
    )  # fmt: skip


class _Parser(argparse.ArgumentParser):
    """argparse's parser, but a usage error is one line, as every other error of xner."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    from xner.spec.study import built_in_studies

    parser = _Parser(prog="xner", description=__doc__)
    parser.add_argument("--version", action="version", version=f"xner {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="fine-tune and score a study's strategies")
    run.add_argument(
        "study", metavar="STUDY",
        help=f"a built-in study ({', '.join(built_in_studies())}) or a study file (TOML)",
    )  # fmt: skip
    run.add_argument(
        "--strategy", action="append", metavar="NAME",
        help="run only this strategy of the study; repeatable (default: all of them)",
    )  # fmt: skip
    _run_options(run)
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
    tolerances = commands.add_parser(
        "tolerances",
        help="suggest expected-value tolerances from a run of several seeds: per cell the "
        "larger of 3 seed standard deviations and the bootstrap half-width",
    )
    tolerances.add_argument("results", help="a results.json of several seeds (--seed ...)")
    for name, what in (
        ("merge", "combine saved runs (e.g. shards) into one: their tables, CSV and plots"),
        ("report", "rebuild a saved run's tables, CSV and plots (byte for byte)"),
    ):
        merge = commands.add_parser(name, help=what, description=what)
        merge.add_argument("runs", nargs="+", metavar="RUN.json", help="results.json files")
        merge.add_argument("--out", required=True, help="folder for the files")
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
    return parser


def _version() -> str:
    from xner.results.records import versions

    return versions()["xner"]


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
        raise ValueError(
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


def run(args: argparse.Namespace) -> int:
    from xner.spec.study import load_study

    return run_study(load_study(args.study, args.data).select(args.strategy), args)


def matrix(args: argparse.Namespace) -> int:
    """Written as a study file in the results folder (the run's own record of what it ran),
    then run like any other."""
    from xner.spec.study import check_matrix, load_study, matrix_file

    evals = "all" if args.eval == "all" else args.eval.split(",")
    check_matrix(args.study, args.train.split(","), evals, args.data)
    out = _writable_out(args)
    path = matrix_file(out / "matrix.toml", args.study, args.train.split(","), evals)
    return run_study(load_study(path, args.data), args)


def _engine(args: argparse.Namespace):
    """The run's xner.execution.engine.Engine: the training, cache and files of the plugin."""
    from xner.execution.engine import Engine

    return Engine(
        args.out, args.cache, args.force, args.model, args.data, args.precision, args.compile,
        progress=not args.no_progress and args.jobs == 1,
    )  # fmt: skip


def _writable_out(args: argparse.Namespace):
    from xner.reporting.output import check_writable

    out = check_writable(args.out)
    check_writable(_engine(args).cache_dir)
    return out


def run_study(study, args: argparse.Namespace) -> int:
    from xner.execution.runner import preflight
    from xner.execution.schedule import config_cost, config_key, in_shard
    from xner.reporting.output import FolderLock
    from xner.reporting.tables import tables
    from xner.results.records import run_facts

    shard = args.shard
    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    if args.bootstrap < 0:
        raise ValueError("--bootstrap wants 0 (no intervals) or more resamples")
    configs = [config for strategy in study.strategies.values() for config in strategy.configs()]
    costs = {
        config_key(study.name, c): config_cost(c, study.fractions, study.recipe.epochs, study.data)
        for c in configs
    }
    mine = in_shard(costs, shard)
    mine_configs = [c for c in configs if config_key(study.name, c) in mine]
    if not mine_configs:
        raise ValueError(
            f"--shard {shard}: no training configuration falls in this shard ({study.name} "
            f"has {len(configs)}); use at most {len(configs)} shards"
        )
    # Everything that can fail fails now, before the first training: the folders, another
    # run on the same folder, the model, every language's data and the few-shot sizes.
    out = _writable_out(args)
    engine = _engine(args)
    with FolderLock(out):
        preflight(study, args.model)
        results = _train(args, engine, study, mine_configs, costs)
        run_info = run_facts() | {
            "study": study.name,
            "study_file": study.source,
            "model": args.model or study.model,
            "data": study.data,
            "seeds": args.seed or [0],
            "recipes": {study.name: asdict(study.recipe)},
            "shard": str(shard) if shard else None,
        }
        engine.write(results, run_info, resamples=args.bootstrap)
        shown, _ = engine.folder_records(results, resamples=args.bootstrap)
    print(tables(shown, fmt="simple"))
    kept = len(shown) - len(results)
    print(
        engine.summary()
        + (f" (shard {shard})" if shard else "")
        + (f"; kept {kept} record(s) of the earlier run" if kept > 0 else "")
        + f"; wrote {out}/"
    )
    return 0


def _train(args, engine, study, configs, costs) -> list:
    """Every (configuration, seed) through the engine's workers: their Results."""
    from xner.execution.schedule import config_key
    from xner.results.records import Result

    jobs = [
        (study.name, engine.job(study, config, seed))
        for config in configs
        for seed in args.seed or [0]
    ]

    def report(job, outcome) -> None:
        # Bars from several workers at once would interleave: one line per training instead.
        if not engine.progress and not args.no_progress:
            how = "trained" if outcome.trained else "from cache"
            print(f"{study.name} {job.config.label} seed {job.seed}: {how}", file=sys.stderr)

    costs = [costs[config_key(study.name, job.config)] for _, job in jobs]
    outcomes = engine.run_all(jobs, args.jobs, costs, report)
    return [Result.from_dict(r) for outcome in outcomes for r in outcome.results]


def compare(args: argparse.Namespace) -> int:
    from xner.reporting.compare import compare_runs, comparison_table
    from xner.results.records import load_results

    before, after = load_results(args.before), load_results(args.after)
    comparisons = compare_runs(before.results, after.results, args.bootstrap)
    if not comparisons:
        raise ValueError(f"{args.before} and {args.after} share no cell")
    print(comparison_table(comparisons))
    paired = sum(c.difference is not None for c in comparisons)
    significant = sum(c.difference is not None and c.difference.significant for c in comparisons)
    print(
        f"{len(comparisons)} cell(s), {paired} compared by paired bootstrap ({args.bootstrap} "
        f"resamples; * = the 95% interval of B - A excludes 0): {significant} significant"
    )
    return 0


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


def merge(args: argparse.Namespace) -> int:
    from xner.reporting.merge import merge_runs
    from xner.reporting.output import write_run
    from xner.reporting.tables import tables

    merged = merge_runs(args.runs)
    write_run(args.out, merged.results, merged.run, merged.expected)
    print(tables(merged.results, fmt="simple"))
    print(f"{len(args.runs)} run(s), {len(merged.results)} result(s); wrote {args.out}/")
    return 0


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt("SIGTERM")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    seeds = getattr(args, "seed", None) or []
    if len(set(seeds)) < len(seeds):
        repeated = sorted({s for s in seeds if seeds.count(s) > 1})
        twice = ", ".join(map(str, repeated))
        print(
            f"xner {args.command}: error: argument --seed: each seed once, got {twice} twice "
            f"(see `xner {args.command} --help`)",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # SIGTERM as Ctrl-C: the workers are ended, the folder's lock released, one line said.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        command = {"run": run, "matrix": matrix, "compare": compare, "merge": merge,
                   "report": merge, "expected": print_expected,
                   "tolerances": print_tolerances}  # fmt: skip
        return command[args.command](args)
    except (HubUnreachableError, WorkerError, OSError, ValueError, KeyError) as err:
        # Errors the user can act on: one line, not a traceback.
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"xner: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        how = "SIGTERM" if err.args == ("SIGTERM",) else "Ctrl-C"
        kept = ""
        if args.command in ("run", "matrix"):
            kept = (
                f"; the configurations that finished are cached in {args.out}/cache/: the "
                "same command trains only what is missing"
            )
        print(f"xner: stopped by {how}{kept}", file=sys.stderr)
        return 143 if how == "SIGTERM" else 130


if __name__ == "__main__":
    sys.exit(main())
