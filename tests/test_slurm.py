"""`xner slurm` on a real Slurm: the smoke study as a 4-task array job on one shared cache,
merged after it; one task cancelled midway, resubmitted with the command xner printed, and
the merge still whole, the cancelled task's finished trainings read from the cache.

Runs where a Slurm controller answers on this machine (.ci/slurm-up.sh starts munge,
slurmctld and slurmd on localhost; CI runs it), else skips saying why. About one smoke run's
trainings: the serial run it is compared with shares the cache and trains nothing.
"""

import json
import re
import shutil
import subprocess
import sys
import time

import pytest

from xner.execution.schedule import Shard
from xner.execution.shard_plan import shard_plan
from xner.spec.identity import ConfigId
from xner.spec.study import load_study

pytestmark = pytest.mark.slurm
BOUND = 900  # seconds any one wait may take before the test fails (CI's runner is slow)


def _no_slurm() -> str | None:
    """Why no Slurm runs jobs here, or None."""
    if not shutil.which("sbatch") or not shutil.which("scontrol"):
        return "no Slurm here (no sbatch; .ci/slurm-up.sh sets up a one-node Slurm)"
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30)
    if ping.returncode != 0 or "UP" not in ping.stdout:
        said = (ping.stdout or ping.stderr).strip()
        return f"no Slurm controller answers (scontrol ping: {said})"
    nodes = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    if not re.search(r"idle|mixed|alloc", nodes.stdout):
        return f"no Slurm node takes jobs (sinfo: {nodes.stdout.strip()})"
    return None


@pytest.fixture(scope="module")
def slurm():
    reason = _no_slurm()
    if reason:
        pytest.skip(reason)


def xner(*args, **kwargs):
    done = subprocess.run([sys.executable, "-m", "xner.cli", *args], capture_output=True,
                          text=True, timeout=BOUND, **kwargs)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def state(job: str) -> str:
    """A job's (or array task's) state, as long as the controller remembers it."""
    shown = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True)
    found = re.search(r"JobState=(\w+)", shown.stdout)
    return found[1] if found else "GONE"


def wait(what: str, ready, bound: float = BOUND):
    start = time.monotonic()
    while not (value := ready()):
        assert time.monotonic() - start < bound, f"waited {bound} s for {what}"
        time.sleep(1)
    return value


def test_smoke_on_slurm_merges_whole_and_a_cancelled_task_resumes_from_the_cache(slurm, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    printed = xner("slurm", "smoke", "--shards", "4", "--cpus-per-task", "1", "--out", str(out),
                   "--cache", str(cache), "--submit")  # fmt: skip
    resubmit = re.search(r"(bash \S+/resubmit\.sh) \S+$", printed, re.M)
    assert resubmit, printed
    folder = out / "slurm"
    array, merge = (folder / "array.ids").read_text().strip(), (folder / "merge.id").read_text()
    merge = merge.strip()
    # The shard with the most trainings, cancelled once one of them is cached.
    study = load_study("smoke")
    plan = shard_plan([study], Shard(1, 4), [0])["configurations"]
    index = max(range(1, 5), key=lambda i: (list(plan.values()).count(i), i))
    stems = {
        ConfigId.of("smoke", c).file_stem
        for s in study.strategies.values()
        for c in s.configs()
        if plan[ConfigId.of("smoke", c).name] == index
    }
    assert len(stems) >= 2

    def cached_of_mine():
        names = [p.name for p in cache.glob("*.json")]
        return [s for s in stems if any(n.startswith(s + "-") for n in names)]

    task = f"{array}_{index}"
    live = ("PENDING", "CONFIGURING", "RUNNING")
    wait(f"a training of task {task} cached", lambda: cached_of_mine() or state(task) not in live)
    before = cached_of_mine()
    assert state(task) == "RUNNING" and 0 < len(before) < len(stems), (state(task), before)
    subprocess.run(["scancel", task], check=True)
    # The merge, depending on every task's success, is cancelled rather than left pending.
    wait("the merge to be cancelled", lambda: state(merge) == "CANCELLED")
    assert "DependencyNeverSatisfied" in subprocess.run(
        ["scontrol", "show", "job", merge], capture_output=True, text=True).stdout  # fmt: skip
    wait(f"task {task} to end", lambda: state(task) not in ("RUNNING", "COMPLETING"))
    assert not (out / f"shard-{index}-of-4" / "results.json").exists()

    # The printed resubmission command, for the cancelled task.
    done = subprocess.run(f"{resubmit[1]} {index}", shell=True, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    new_merge = (folder / "merge.id").read_text().strip()
    assert new_merge != merge
    wait("the new merge", lambda: state(new_merge) not in ("PENDING", "RUNNING", "CONFIGURING",
                                                          "COMPLETING"))  # fmt: skip
    log = (folder / "logs" / "merge.out").read_text()
    assert state(new_merge) == "COMPLETED", log
    resumed = (folder / "logs" / f"shard-{index}-of-4.out").read_text()
    found = re.search(r"trained (\d+) configuration\(s\), (\d+) from cache", resumed)
    assert found and int(found[2]) >= len(before) and int(found[1]) + int(found[2]) == len(stems)

    merged = json.loads((out / "merged" / "results.json").read_text())
    assert merged["run"]["whole"] is True and merged["run"]["shard"] is None
    assert sorted(merged["run"]["shards"]) == ["1/4", "2/4", "3/4", "4/4"]
    # A serial run on the same cache: it trains nothing, and its figures are the merge's.
    serial = tmp_path / "serial"
    said = xner("run", "smoke", "--no-progress", "--out", str(serial), "--cache", str(cache))
    assert "trained 0 configuration(s), 8 from cache" in said
    assert _figures(out / "merged") == _figures(serial) and len(_figures(serial)) == 17


def _figures(folder):
    records = json.loads((folder / "results.json").read_text())["results"]
    return {
        (r["strategy"], r["config"], r["eval_lang"], r["seed"]):
        (r["f1"], r["n_test"], r["train_size"], r["sentence_counts"])
        for r in records
    }  # fmt: skip
