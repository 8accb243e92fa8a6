"""`xner check STUDY`: every check `xner run` makes before its first training (the study file,
the options, the results and cache folders, the model's tokenizer for a hub model, every
language's data and the few-shot sizes) and the cases the run would measure, in the order
it would train them; in seconds, without torch, writing nothing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xner.cli.run import _run_options


def add_parser(commands) -> None:
    check = commands.add_parser(
        "check", help="check a study and list its cases, without training (no torch)"
    )
    check.add_argument("study", metavar="STUDY", help="a built-in study or a study file (TOML)")
    _run_options(check)


def check(args: argparse.Namespace) -> int:
    from xner.execution.checks import preflight
    from xner.execution.options import RunOptions, cache_folder
    from xner.execution.plan import make_plan
    from xner.spec.cases import case_id
    from xner.spec.identity import CaseId
    from xner.spec.study import load_study

    options = RunOptions.of_args(args)
    study = load_study(args.study, options.data).select(list(options.strategy or ()))
    plan = make_plan([study], options.seeds, options.shard)
    if not plan.trainings:
        from xner.execution.flags import FlagError

        raise FlagError(
            f"--shard {options.shard}: no training configuration falls in this shard "
            f"({study.name} has {plan.total}); use at most {plan.total} shards"
        )
    cache = cache_folder(options.results, options.cache)
    for folder in (Path(options.results), cache):
        _check_writable_without_writing(folder)
    several = len(options.seeds) > 1
    cases = 0
    for training in plan.trainings:
        config, seed = training.config, training.seed
        ids = [
            case_id(CaseId(study.name, config.strategy, config.label, seed, lang),
                    several_seeds=several)
            for lang in config.eval_langs
        ]  # fmt: skip
        cases += len(ids)
        print(f"{config.strategy} {config.label} seed {seed} (cost {plan.cost(training):,.0f}): "
              + ", ".join(ids))  # fmt: skip
    for finding in study.findings:
        print(f"finding {finding.name}: {finding.says} ({finding.claim})")
    # The model and every language's data last: what the study would run is listed even
    # where one of them cannot be reached (the hub, from an offline machine).
    sys.stdout.flush()
    preflight(study, options.model)
    shard = f", shard {options.shard}" if options.shard else ""
    print(
        f"{study.name}: ok; {len(plan.trainings)} training(s), {cases} case(s){shard}; "
        f"{len(study.findings)} finding(s); model {options.model or study.model}, "
        f"data {study.data}"
    )
    return 0


def _check_writable_without_writing(folder: Path) -> None:
    """`folder`, or where it would be made, takes files (a probe written and removed there):
    nothing is left behind, no folder made."""
    from xner.writer import check_writable

    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    check_writable(existing)
