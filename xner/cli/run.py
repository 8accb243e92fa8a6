"""`xner run STUDY`: fine-tune and score a study's strategies (and the options `xner matrix`
shares), through the engine the pytest plugin uses."""

from __future__ import annotations

import argparse
import sys

from xner.execution import flags
from xner.execution.options import RunOptions, add_run_options


def add_parser(commands) -> None:
    from xner.spec.study import built_in_studies

    run = commands.add_parser("run", help="fine-tune and score a study's strategies")
    run.add_argument(
        "study", metavar="STUDY",
        help=f"a built-in study ({', '.join(built_in_studies())}) or a study file (TOML)",
    )  # fmt: skip
    _run_options(run)


def _run_options(command: argparse.ArgumentParser) -> None:
    """The run options (xner.execution.options, the same as pytest's --xner-*) and `--jobs`,
    which under pytest is pytest-xdist's -n."""
    add_run_options(command.add_argument)
    command.add_argument(
        "--jobs", type=flags.at_least(1, "jobs"), default=1, metavar="N",
        help="train N configurations at once, longest first, each in its own process with "
        "its share of the CPU cores and, on a GPU machine, worker k on GPU k mod G (default 1)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from xner.spec.study import load_study

    return run_study(load_study(args.study, args.data), args)


def _engine(args: argparse.Namespace):
    """The run's xner.execution.engine.Engine: the training, cache and files of the plugin."""
    from xner.execution.engine import Engine

    return Engine.of(RunOptions.of_args(args))


def _writable_out(args: argparse.Namespace):
    from xner.reporting.output import check_writable

    out = check_writable(args.results)
    check_writable(_engine(args).cache_dir)
    if args.keep:
        check_writable(args.keep)  # the history store, before hours of training
    return out


def run_study(study, args: argparse.Namespace) -> int:
    from xner.execution.checks import preflight
    from xner.execution.engine import run_record
    from xner.execution.plan import make_plan
    from xner.reporting.output import FolderLock
    from xner.reporting.tables import tables

    options = RunOptions.of_args(args)
    shard = options.shard
    study = study.select(list(options.strategy or ()))
    plan = make_plan([study], options.seeds, shard)
    if not plan.trainings:
        raise flags.FlagError(
            f"--shard {shard}: no training configuration falls in this shard ({study.name} "
            f"has {plan.total}); use at most {plan.total} shards"
        )
    # Everything that can fail fails now, before the first training: the folders, another
    # run on the same folder, the model, every language's data and the few-shot sizes.
    out = _writable_out(args)
    engine = _engine(args)
    with FolderLock(out):
        preflight(study, options.model)
        results = _train(options, engine, plan)
        run_info = run_record("xner run", options, [study])
        if shard:
            run_info["plan"] = _shard_plan(study, options)
        shown, _ = engine.folder_records(results, resamples=options.bootstrap)
        try:
            written = engine.write(
                results, run_info, resamples=options.bootstrap, findings=study.findings
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
    if options.keep:
        from xner.reporting.store import keep_run

        print(f"kept the run in {keep_run(options.keep, run_info, written)}/")
    kept = len(shown) - len(results)
    print(
        engine.summary()
        + (f" (shard {shard})" if shard else "")
        + (f"; kept {kept} record(s) of the earlier run" if kept > 0 else "")
        + f"; wrote {out}/"
    )
    return 0


def _shard_plan(study, options: RunOptions) -> dict:
    """What this shard records of the plan it was cut from (xner.execution.shard_plan)."""
    from xner.execution.shard_plan import shard_plan

    runtime = {"dtype": options.dtype, "compile": options.compile}
    return shard_plan([study], options.shard, options.seeds, options.model, options.data, runtime)


def _train(options: RunOptions, engine, plan) -> list:
    """Every training of the plan through the engine's workers: their Results."""
    from xner.results.records import Result

    jobs = [(t.study.name, engine.job(t.study, t.config, t.seed)) for t in plan.trainings]

    def report(job, outcome) -> None:
        # Bars from several workers at once would interleave: one line per training instead.
        if not engine.progress and not options.no_progress:
            how = "trained" if outcome.trained else "from cache"
            print(f"{job.study} {job.config.label} seed {job.seed}: {how}", file=sys.stderr)

    costs = [plan.cost(t) for t in plan.trainings]
    outcomes = engine.run_all(jobs, options.jobs, costs, report)
    return [Result.from_dict(r) for outcome in outcomes for r in outcome.results]
