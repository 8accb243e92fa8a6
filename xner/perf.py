"""Speed measurements of xner's runtime against the plain Trainer, as JSON on stdout.

    python -m xner.perf steps --model xlmr-base-random --data DIR --lang de --steps 6 \\
        --runtime plain|xner
    python -m xner.perf suite --study report --model xlmr-base-random --data DIR \\
        --runtime plain|xner --jobs N [--max-steps K]
    python -m xner.perf ratio PLAIN.json FAST.json

`steps` times a few optimizer steps of one model at the recipe's batch on a language's real
sentences, in this process (run one per process: its peak memory is the process's). `suite`
runs a study's every strategy through the same engine as `xner run`; with `--max-steps K`
every training stops after K steps and the full study's time is extrapolated from the
measured time per step (validation passes during training are then left out, so the
extrapolation is a lower bound). benchmarks/perf/ runs these; see the README.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

from xner.execution.jobs import peak_memory
from xner.spec.runtime import PLAIN, Runtime

RUNTIMES = {"plain": PLAIN, "xner": None}  # None: the study's own runtime


def time_steps(
    model: str, data: str, lang: str, steps: int, runtime: Runtime, batch_size: int = 16
) -> dict:
    """Seconds per optimizer step (first step excluded) and peak memory of `steps` steps."""
    import datasets

    from xner.data.align import encode
    from xner.data.panx import load_panx
    from xner.training.device import resolve
    from xner.training.model import load_tokenizer
    from xner.training.train import Recipe, StepClock, finetune

    if steps < 2:
        raise ValueError("time at least 2 steps: the first one is warm-up and not counted")
    datasets.disable_progress_bars()
    tokenizer = load_tokenizer(model)
    corpus = load_panx(lang, data)
    rows = steps * batch_size
    if corpus["train"].num_rows < rows:
        raise ValueError(f"{data}: {lang} has {corpus['train'].num_rows} rows, {rows} needed")
    encoded = encode(
        datasets.DatasetDict(
            train=corpus["train"].select(range(rows)),
            validation=corpus["validation"].select(range(batch_size)),
        ),
        tokenizer,
    )
    clock = StepClock()
    start = time.perf_counter()
    finetune(
        model, tokenizer, encoded["train"], encoded["validation"],
        Recipe(epochs=1, batch_size=batch_size), progress=False, runtime=runtime,
        callbacks=[clock], max_steps=steps,
    )  # fmt: skip
    tokens = sum(len(ids) for ids in encoded["train"]["input_ids"])
    return {
        "model": model,
        "lang": lang,
        "steps": clock.steps,
        "seconds_per_step": clock.seconds_per_step,
        "wall_seconds": round(time.perf_counter() - start, 3),
        "mean_tokens_per_sentence": round(tokens / rows, 2),
        "runtime": resolve(runtime),
        "peak": peak_memory(),
    }


def time_suite(
    study_name: str,
    model: str | None,
    data: str | None,
    runtime_name: str,
    jobs: int,
    max_steps: int | None = None,
) -> dict:
    """Wall time of a study's (every strategy, seed 0) on `jobs` workers."""
    from xner.execution.jobs import Job, run_jobs
    from xner.execution.schedule import config_cost
    from xner.spec.study import load_study

    study = load_study(study_name, data)
    runtime = RUNTIMES[runtime_name] or study.runtime
    configs = [c for s in study.strategies.values() for c in s.configs()]
    batch = [
        Job(study.ref, c, 0, runtime, model, data, progress=False, max_steps=max_steps)
        for c in configs
    ]
    costs = [config_cost(c, study) for c in configs]
    start = time.perf_counter()
    outcomes = run_jobs(batch, jobs, costs)
    wall = time.perf_counter() - start
    per_config, estimate = [], 0.0
    for outcome in outcomes:
        first = outcome.results[0]
        batches = math.ceil(first["train_size"] / study.recipe.batch_size)
        full_steps = study.recipe.epochs * batches
        evaluation = sum(r["eval_seconds"] for r in outcome.results)
        measured = first["train_seconds"]
        # Set-up (model load, first step) as measured, then every step at the measured pace.
        setup = measured - (first["train_steps"] - 1) * first["seconds_per_step"]
        full = setup + (full_steps - 1) * first["seconds_per_step"] + evaluation
        estimate += full
        per_config.append(
            {
                "config": f"{first['strategy']} {first['config']}",
                "steps": first["train_steps"],
                "full_steps": full_steps,
                "seconds_per_step": first["seconds_per_step"],
                "train_seconds": measured,
                "eval_seconds": round(evaluation, 3),
                "peak": outcome.peak,
            }
        )
    return {
        "study": study.name,
        "model": model or study.model,
        "runtime": runtime_name,
        "resolved_runtime": outcomes[0].results[0]["runtime"] if outcomes else {},
        "jobs": jobs,
        "max_steps": max_steps,
        "wall_seconds": round(wall, 3),
        # Serial sum of the full trainings: the plain baseline's time when it was cut short.
        "extrapolated_serial_seconds": round(estimate, 3) if max_steps else None,
        "peak_gpu_mib": max((o.peak.get("gpu_mib", 0) for o in outcomes), default=0),
        "peak_rss_mib": max((o.peak.get("rss_mib", 0) for o in outcomes), default=0),
        "configs": per_config,
    }


def ratio(plain: dict, fast: dict) -> dict:
    """How much faster `fast` finished the suite than `plain` (extrapolated where cut short)."""
    baseline = plain["extrapolated_serial_seconds"] or plain["wall_seconds"]
    return {
        "plain_seconds": baseline,
        "plain_extrapolated": plain["extrapolated_serial_seconds"] is not None,
        "fast_seconds": fast["wall_seconds"],
        "speedup": round(baseline / fast["wall_seconds"], 2),
        "plain_peak_gpu_mib": plain["peak_gpu_mib"],
        "fast_peak_gpu_mib": fast["peak_gpu_mib"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xner.perf", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    steps = commands.add_parser("steps", help="time a few optimizer steps")
    steps.add_argument("--model", default="xlmr-base-random")
    steps.add_argument("--data", default="synthetic")
    steps.add_argument("--lang", default="de")
    steps.add_argument("--steps", type=int, default=6)
    steps.add_argument("--batch-size", type=int, default=16)
    steps.add_argument("--runtime", choices=RUNTIMES, default="xner")
    suite = commands.add_parser("suite", help="time a whole study")
    suite.add_argument("--study", default="report", help="a built-in study or a study file")
    suite.add_argument("--model")
    suite.add_argument("--data")
    suite.add_argument("--runtime", choices=RUNTIMES, default="xner")
    suite.add_argument("--jobs", type=int, default=1)
    suite.add_argument("--max-steps", type=int)
    compare = commands.add_parser("ratio", help="speed-up of a fast suite over a plain one")
    compare.add_argument("plain")
    compare.add_argument("fast")
    args = parser.parse_args(argv)
    if args.command == "steps":
        runtime = RUNTIMES[args.runtime] or Runtime()
        out = time_steps(args.model, args.data, args.lang, args.steps, runtime, args.batch_size)
    elif args.command == "suite":
        out = time_suite(args.study, args.model, args.data, args.runtime, args.jobs, args.max_steps)
    else:
        with open(args.plain) as a, open(args.fast) as b:
            out = ratio(json.load(a), json.load(b))
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
