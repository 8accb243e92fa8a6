"""The speed tools on a CPU with tiny shapes: `python -m xner.perf` and benchmarks/perf/gpu.sh
(which on a GPU times the report study with xlmr-base-random)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_steps_times_the_steps_it_was_asked_for():
    out = subprocess.run(
        [sys.executable, "-m", "xner.perf", "steps", "--model", "tiny", "--data", "synthetic",
         "--steps", "3", "--runtime", "plain"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    timing = json.loads(out.stdout)
    assert timing["steps"] == 3 and timing["seconds_per_step"] > 0
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
    assert len(plain["configs"]) == len(fast["configs"]) == 8
    assert {c["steps"] for c in plain["configs"]} == {3}
    assert {c["steps"] for c in fast["configs"]} == {2}
    # The extrapolation covers every step of the full recipe: more than the measured time.
    assert plain["extrapolated_serial_seconds"] > plain["wall_seconds"] * 0.5
    assert all(c["full_steps"] > c["steps"] for c in plain["configs"])
    assert (plain["runtime"], fast["runtime"], fast["jobs"]) == ("plain", "xner", 2)
    assert ratio["plain_extrapolated"] is True and ratio["speedup"] > 0
