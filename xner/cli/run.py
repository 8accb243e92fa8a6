"""`xner run STUDY`: fine-tune and score a study's strategies (and the options `xner matrix`
shares), through the engine the pytest plugin uses."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from xner.execution import flags
from xner.spec.recipe import BOOTSTRAP_RESAMPLES
from xner.spec.runtime import DTYPES


def add_parser(commands) -> None:
    from xner.spec.study import built_in_studies

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
    command.add_argument(
        "--keep", metavar="DIR",
        help="also keep the finished run in the history store DIR (a new subfolder named by "
        "date, commit and versions), for `xner history DIR`",
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
        "--dtype", choices=DTYPES,
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


def run(args: argparse.Namespace) -> int:
    from xner.spec.study import load_study

    return run_study(load_study(args.study, args.data).select(args.strategy), args)


def _engine(args: argparse.Namespace):
    """The run's xner.execution.engine.Engine: the training, cache and files of the plugin."""
    from xner.execution.engine import Engine

    return Engine(
        args.out, args.cache, args.force, args.model, args.data, args.dtype, args.compile,
        progress=not args.no_progress and args.jobs == 1,
    )  # fmt: skip


def _writable_out(args: argparse.Namespace):
    from xner.reporting.output import check_writable

    out = check_writable(args.out)
    check_writable(_engine(args).cache_dir)
    if args.keep:
        check_writable(args.keep)  # the history store, before hours of training
    return out


def run_study(study, args: argparse.Namespace) -> int:
    from xner.execution.engine import run_facts
    from xner.execution.runner import preflight
    from xner.execution.schedule import config_cost, config_key, in_shard
    from xner.reporting.output import FolderLock
    from xner.reporting.tables import tables

    shard = args.shard
    configs = [config for strategy in study.strategies.values() for config in strategy.configs()]
    costs = {config_key(study.name, c): config_cost(c, study) for c in configs}
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
        if shard:
            run_info["plan"] = _plan(study, shard, args)
        shown, _ = engine.folder_records(results, resamples=args.bootstrap)
        try:
            written = engine.write(
                results, run_info, resamples=args.bootstrap, findings=study.findings
            )
        except OSError as err:
            # The figures are shown even when the folder cannot take them (a full disk).
            print(tables(shown, fmt="simple"))
            raise OSError(
                f"{err}; the figures above were not saved: free some space and run the same "
                "command (what was cached is not trained again)"
            ) from None
    print(tables(shown, fmt="simple"))
    from xner.reporting.findings import findings_section, verdicts

    section = findings_section(verdicts(study.findings, shown), fmt="simple")
    if section:
        print(section)
    if args.keep:
        from xner.reporting.store import keep_run

        print(f"kept the run in {keep_run(args.keep, run_info, written)}/")
    kept = len(shown) - len(results)
    print(
        engine.summary()
        + (f" (shard {shard})" if shard else "")
        + (f"; kept {kept} record(s) of the earlier run" if kept > 0 else "")
        + f"; wrote {out}/"
    )
    return 0


def _plan(study, shard, args) -> dict:
    """What this shard records of the plan it was cut from (xner.execution.shard_plan)."""
    from xner.execution.shard_plan import shard_plan

    options = {"dtype": args.dtype, "compile": args.compile}
    return shard_plan([study], shard, args.seed or [0], args.model, args.data, options)


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
