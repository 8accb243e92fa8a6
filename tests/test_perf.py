"""The speed tools on a CPU with tiny shapes: `python -m xner.perf` and benchmarks/perf/gpu.sh
(which on a GPU times the report study with xlmr-base-random)."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xner.spec.study import load_study

ROOT = Path(__file__).resolve().parents[1]


def test_steps_times_the_steps_it_was_asked_for():
    out = subprocess.run(
        [sys.executable, "-m", "xner.perf", "steps", "--model", "tiny", "--data", "synthetic",
         "--steps", "3", "--runtime", "plain"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    timing = json.loads(out.stdout)
    assert timing["steps"] == 3
    # The step clock (from the end of step 1 to the end of step 3) runs inside the wall clock
    # of the whole fine-tuning (model built, three steps, one evaluation).
    assert 0 < 2 * timing["seconds_per_step"] < timing["wall_seconds"]
    assert timing["runtime"]["optim"] == "trainer default" and not timing["runtime"]["fast"]
    assert timing["peak"]["rss_mib"] > 100


def test_gpu_script_runs_both_paths_and_extrapolates_the_plain_one(tmp_path):
    env = os.environ | {
        "XNER_PERF_MODEL": "tiny",
        "XNER_PERF_STUDY": "smoke",
        "XNER_PERF_FAST_MAX_STEPS": "2",
        "XNER_PERF_OUT": str(tmp_path),
    }
    subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "perf" / "gpu.sh"), "synthetic", "2", "3"],
        check=True, env=env, capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    plain = json.loads((tmp_path / "plain.json").read_text())
    fast = json.loads((tmp_path / "fast.json").read_text())
    ratio = json.loads((tmp_path / "ratio.json").read_text())
    assert (plain["runtime"], plain["jobs"]) == ("plain", 1)
    assert (fast["runtime"], fast["jobs"]) == ("xner", 2)
    assert len(plain["configs"]) == len(fast["configs"]) == 8
    assert {c["steps"] for c in plain["configs"]} == {3}
    assert {c["steps"] for c in fast["configs"]} == {2}
    # The full recipe's steps, from the study: a few-shot training of n sentences takes
    # epochs x ceil(n / batch) of them.
    recipe = load_study("smoke").recipe
    few_shot = {c["config"]: c["full_steps"] for c in plain["configs"] if "fr:" in c["config"]}
    assert few_shot == {
        f"few-shot fr:{n}": recipe.epochs * math.ceil(n / recipe.batch_size)
        for n in (50, 100, 200, 300, 400)
    }
    # Extrapolated: each training as measured plus its remaining steps at its measured pace,
    # and its evaluations.
    rest = sum(
        c["train_seconds"]
        + c["eval_seconds"]
        + (c["full_steps"] - c["steps"]) * c["seconds_per_step"]
        for c in plain["configs"]
    )
    assert plain["extrapolated_serial_seconds"] == pytest.approx(rest, rel=1e-3)
    assert all(c["full_steps"] > c["steps"] for c in plain["configs"])
    # One training after another: the serial run's wall time holds all of them; two at once:
    # at least its longest.
    assert plain["wall_seconds"] >= sum(c["train_seconds"] + c["eval_seconds"]
                                        for c in plain["configs"])  # fmt: skip
    assert fast["wall_seconds"] >= max(c["train_seconds"] for c in fast["configs"])
    assert (ratio["plain_seconds"], ratio["fast_seconds"], ratio["plain_extrapolated"]) == (
        plain["extrapolated_serial_seconds"],
        fast["wall_seconds"],
        True,
    )
    speedup = plain["extrapolated_serial_seconds"] / fast["wall_seconds"]
    assert ratio["speedup"] == pytest.approx(speedup, abs=0.005)
