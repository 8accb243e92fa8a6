"""One `--cache` folder for many concurrent runs: each configuration trains once, readers
never see half an entry, and a lock left by a dead process is taken over."""

import os
import re
import socket
import subprocess
import sys
import threading
import time

from xner.execution.entry_lock import EntryLock

# Two small trainings (French few-shot at 50 and 100 sentences, one epoch): both runs start
# with the costlier one, so they meet on it.
STUDY = """
description = "two small trainings for the shared-cache test"
model = "tiny"
data = "synthetic"
languages = ["fr"]
few_shot_sizes = [50, 100]

[fractions]
fr = 0.1

[recipe]
learning_rate = 1e-2
epochs = 1

[runtime]
threads = 1
portable = true

[strategies.few-shot]
train = ["fr"]
eval = ["fr"]
few_shot = true
"""


def xner_run(study, out, cache, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "xner.cli.main", "run", str(study), "--no-progress",
         "--out", str(out), "--cache", str(cache), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_two_concurrent_runs_with_overlapping_shards_train_each_configuration_once(tmp_path):
    study = tmp_path / "two.toml"
    study.write_text(STUDY)
    cache = tmp_path / "cache"
    runs = [xner_run(study, tmp_path / "all", cache),
            xner_run(study, tmp_path / "half", cache, "--shard", "1/2")]  # fmt: skip
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    trained = cached = 0
    for out, _ in outputs:
        match = re.search(r"trained (\d+) configuration\(s\), (\d+) from cache", out)
        assert match, out
        trained, cached = trained + int(match[1]), cached + int(match[2])
    figures = [_f1s(tmp_path / name / "results.json") for name in ("all", "half")]
    assert len(figures[0]) == 2 and len(figures[1]) == 1
    assert trained == 2 and cached == 1  # each once; the other run read it
    # Two entries (each with its predictions beside it, and the cache index), no lock left.
    entries = sorted(p.name for p in cache.iterdir())
    assert len([e for e in entries if e.endswith(".json")]) == 2, entries
    assert not [e for e in entries if e.endswith(".lock")], entries
    assert figures[1].items() <= figures[0].items()  # the shard's figures are the whole run's


def _f1s(path):
    import json

    return {r["config"]: r["f1"] for r in json.loads(path.read_text())["results"]}


def test_a_waiter_reads_what_the_holder_wrote_and_never_takes_a_live_lock(tmp_path):
    lock_file, entry = tmp_path / "e.json.lock", tmp_path / "e.json"
    holder = EntryLock(lock_file)
    assert holder.wait(entry.exists)
    seen = []
    waiter = threading.Thread(target=lambda: seen.append(EntryLock(lock_file).wait(entry.exists)))
    waiter.start()
    time.sleep(1.0)
    assert waiter.is_alive()  # the holder lives (this process): no takeover
    entry.write_text("{}")
    holder.release()
    waiter.join(timeout=10)
    assert seen == [False] and not lock_file.exists()


def test_a_lock_of_a_dead_process_is_taken_over(tmp_path):
    lock_file = tmp_path / "e.json.lock"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_file.write_text(f"{socket.gethostname()} {dead.pid} 0123")
    lock = EntryLock(lock_file)
    assert lock.wait(lambda: False)
    assert lock_file.read_text() == lock.token
    lock.release()
    assert not lock_file.exists()


def test_a_lock_of_another_host_is_stale_only_once_untouched(tmp_path):
    lock_file = tmp_path / "e.json.lock"
    lock_file.write_text("elsewhere 1 0123")
    waiting = []
    thread = threading.Thread(target=lambda: waiting.append(EntryLock(lock_file, stale=60).wait(
        lambda: False)))  # fmt: skip
    thread.daemon = True
    thread.start()
    time.sleep(1.0)
    assert thread.is_alive() and lock_file.read_text() == "elsewhere 1 0123"
    old = time.time() - 61
    os.utime(lock_file, (old, old))  # its owner stopped touching it a minute ago
    thread.join(timeout=10)
    assert waiting == [True] and lock_file.read_text() != "elsewhere 1 0123"
